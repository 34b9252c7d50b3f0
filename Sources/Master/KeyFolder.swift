import Foundation
import Synchronization
import ZeroMQ

/// A folder of public certificates read as a set of keys, re-read when the folder changes (its modification time)
/// and at least every `rescanMillis`: the master's `rejected/` list (docs/security.md#enrolment). A missing or
/// unreadable folder holds no key.
public final class KeyFolder: Sendable {
    public let directory: String
    private let rescanMillis: Int64
    private let clock: @Sendable () -> Int64
    private struct State {
        var keys: Set<CurveKey> = []
        var stamp: timespec?
        var loadedAt: Int64 = .min
    }
    private let state = Mutex(State())

    public init(
        directory: String,
        rescanMillis: Int64 = 2_000,
        clock: @escaping @Sendable () -> Int64 = MasterConfiguration.monotonicMillis
    ) {
        self.directory = directory
        self.rescanMillis = rescanMillis
        self.clock = clock
    }

    /// Whether some certificate in the folder holds `key`.
    public func contains(_ key: CurveKey) -> Bool {
        state.withLock { state in
            refresh(&state)
            return state.keys.contains(key)
        }
    }

    private func refresh(_ state: inout State) {
        var info = stat()
        let stamp: timespec? = stat(directory, &info) == 0 ? info.st_mtim : nil
        let now = clock()
        let same = stamp?.tv_sec == state.stamp?.tv_sec && stamp?.tv_nsec == state.stamp?.tv_nsec
        guard
            !same || now.subtractingReportingOverflow(state.loadedAt).partialValue >= rescanMillis
                || state.loadedAt == .min
        else { return }
        state.stamp = stamp
        state.loadedAt = now
        state.keys = Set(KeyFolder.certificates(in: directory).map(\.certificate.publicKey))
    }

    /// Every readable public certificate in `directory`, with its file name stem.
    public static func certificates(in directory: String) -> [(name: String, certificate: ZMQCertificate)] {
        guard let names = AtomicFile.names(in: directory) else { return [] }
        return names.sorted().compactMap { name in
            guard name.hasSuffix(ZMQCertificate.publicSuffix), !name.hasPrefix(".") else { return nil }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            guard let certificate = try? ZMQCertificate.load(path: path) else { return nil }
            return (String(name.dropLast(ZMQCertificate.publicSuffix.count)), certificate)
        }
    }
}
