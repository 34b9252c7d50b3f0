#if canImport(Glibc)
import Glibc

/// Tells whether anything in one folder changed since it was last asked, through Linux `inotify`: a file created,
/// written, renamed, removed or its mode changed, or the folder itself moved or removed. Asking costs one
/// non-blocking `read`, so a caller may ask before every decision; the kernel queues an event before the call that
/// caused it returns, so a change made before a question is always seen by it.
///
/// Not thread-safe: the owner serialises calls (``AllowListAuthoriser`` holds its lock).
final class DirectoryWatch {
    private let descriptor: Int32
    private var watch: Int32 = -1
    let directory: String
    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

    private static let mask = UInt32(
        IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB
            | IN_DELETE_SELF | IN_MOVE_SELF
    )

    /// `nil` when the process cannot have an inotify instance (the per-user limit is reached, say); the owner
    /// then falls back to looking at the folder's modification time.
    init?(directory: String) {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        self.descriptor = descriptor
        self.directory = directory
        rewatch()
    }

    deinit { close(descriptor) }

    /// Whether the folder (the one at `directory` now) is being watched. False after it was moved or removed, until
    /// ``rewatch()`` finds a folder there again.
    var isWatching: Bool { watch >= 0 }

    /// Watches the folder at `directory` as it is now, unless one is watched already. Call it before reading the
    /// folder, so that nothing changed between the two goes unseen.
    func rewatch() {
        guard watch < 0 else { return }
        watch = inotify_add_watch(descriptor, directory, Self.mask)
    }

    /// True when events arrived since the last call (or the queue overflowed, or reading failed): the folder must
    /// be read again. Drains the queue.
    func changed() -> Bool {
        var changed = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                // EAGAIN: the queue is empty. Anything else: do not trust the watch.
                if errno != EAGAIN && errno != EWOULDBLOCK {
                    watch = -1
                    changed = true
                }
                return changed
            }
            if count == 0 { return changed }
            changed = true
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= count {
                let (wd, mask, nameLength) = buffer.withUnsafeBytes { raw in
                    (
                        raw.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                        raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                        Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    )
                }
                // The folder itself went away (events of an earlier watch are only changes).
                if wd == watch && mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 {
                    // A moved folder is still watched where it went: stop that.
                    if mask & UInt32(IN_MOVE_SELF) != 0 { inotify_rm_watch(descriptor, wd) }
                    watch = -1
                }
                offset += MemoryLayout<inotify_event>.size + nameLength
            }
        }
    }
}
#endif
