import CSodium

/// Secret bytes (a CURVE secret key, or its Z85 text while it is being converted) in memory of their own that is
/// locked against swapping where the system allows it and wiped with `sodium_memzero` when freed.
///
/// A class, so the bytes are never copied implicitly: every copy of the reference shares one buffer, and the
/// buffer is wiped once the last reference goes. Written only while being initialised, read-only afterwards: that
/// invariant makes the `@unchecked Sendable` safe. It cannot protect copies made by others: libzmq keeps its own
/// copy of a key set on a socket, and an array passed to ``init(copying:)`` stays as it was.
public final class SecretBytes: @unchecked Sendable, Equatable, CustomStringConvertible {
    private let storage: UnsafeMutableRawBufferPointer
    private let locked: Bool

    /// Allocates `count` zeroed bytes and lets `fill` write them; if `fill` throws, the bytes are wiped and freed.
    public init<E: Error>(count: Int, fill: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        precondition(count > 0, "SecretBytes needs at least one byte")
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        let locked = sodium_mlock(storage.baseAddress!, count) == 0
        do {
            try fill(storage)
        } catch {
            SecretBytes.wipe(storage, locked: locked)
            throw error
        }
        self.storage = storage
        self.locked = locked
    }

    /// Copies `bytes` into secret memory (the source array is not wiped; prefer building the secret in place).
    public convenience init(copying bytes: [UInt8]) {
        self.init(count: bytes.count) { (target: UnsafeMutableRawBufferPointer) in
            target.copyBytes(from: bytes)
        }
    }

    deinit {
        SecretBytes.wipe(storage, locked: locked)
    }

    private static func wipe(_ storage: UnsafeMutableRawBufferPointer, locked: Bool) {
        sodium_memzero(storage.baseAddress, storage.count)
        if locked { sodium_munlock(storage.baseAddress!, storage.count) }
        storage.deallocate()
    }

    /// The number of bytes.
    public var count: Int { storage.count }

    /// Reads the secret without copying it; do not let the pointer escape.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// Constant-time comparison (`sodium_memcmp`).
    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool {
        lhs.count == rhs.count && sodium_memcmp(lhs.storage.baseAddress, rhs.storage.baseAddress, lhs.count) == 0
    }

    /// Never shows the bytes.
    public var description: String { "SecretBytes(\(count) bytes)" }
}
