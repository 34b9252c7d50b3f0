import ZeroMQ

/// The open TCP connections of the master's agent sockets, keyed by descriptor, from libzmq's monitor events
/// (`accepted` adds, `closed`/`disconnected` removes) and from the messages that arrive on them.
///
/// It serves three defences (docs/security.md#resources): a cap on open connections (the master refuses new ones
/// before descriptors run out), a deadline for an authenticated command connection to say anything (a connection
/// parked by libzmq behind a routing id already in use, or one holding an id without using it), and cutting every
/// connection of a key that was revoked or went over its byte budget. A plain value owned by the master's actor.
struct ConnectionTable: Sendable {
    struct Entry: Sendable {
        var role: MasterCounters.SocketRole
        var connection: PeerConnection?
        var acceptedAt: Int64
        /// The key of the last message seen on it.
        var key: String?
        var lastMessageAt: Int64?
    }

    private(set) var entries: [Int32: Entry] = [:]
    /// Command connections that have not sent a message yet, and when each was accepted: what ``mute(olderThan:now:)``
    /// looks at, so that a timer tick costs nothing per established connection of a large fleet.
    private var silentSince: [Int32: Int64] = [:]

    var count: Int { entries.count }

    /// A connection was accepted on `descriptor`; returns its entry.
    @discardableResult
    mutating func accepted(descriptor: Int32, role: MasterCounters.SocketRole, now: Int64) -> Entry {
        let entry = Entry(
            role: role,
            connection: PeerConnection(descriptor: descriptor),
            acceptedAt: now,
            key: nil,
            lastMessageAt: nil
        )
        entries[descriptor] = entry
        if role == .command { silentSince[descriptor] = now } else { silentSince[descriptor] = nil }
        return entry
    }

    /// The connection on `descriptor` closed.
    mutating func closed(descriptor: Int32) {
        entries[descriptor] = nil
        silentSince[descriptor] = nil
    }

    /// A message from `key` arrived on `descriptor`.
    mutating func message(descriptor: Int32?, key: String?, now: Int64) {
        guard let descriptor, var entry = entries[descriptor] else { return }
        entry.key = key ?? entry.key
        entry.lastMessageAt = now
        entries[descriptor] = entry
        silentSince[descriptor] = nil
    }

    /// Command connections accepted more than `limit` ago that never sent a message; they are forgotten here.
    mutating func mute(olderThan limit: Int64, now: Int64) -> [PeerConnection] {
        let due = silentSince.filter { now - $0.value > limit }.keys.sorted()
        var mute: [PeerConnection] = []
        for descriptor in due {
            silentSince[descriptor] = nil
            if let connection = entries.removeValue(forKey: descriptor)?.connection { mute.append(connection) }
        }
        return mute
    }

    /// Every known connection that last spoke with `key`.
    func connections(of key: String) -> [PeerConnection] {
        entries.values.filter { $0.key == key }.compactMap(\.connection)
    }

    /// The connection on `descriptor`, as recorded when it was accepted.
    func connection(on descriptor: Int32?) -> PeerConnection? {
        descriptor.flatMap { entries[$0]?.connection }
    }
}
