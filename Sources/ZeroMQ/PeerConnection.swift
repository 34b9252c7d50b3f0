#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One TCP connection of a libzmq socket, named by its descriptor and both of its addresses.
///
/// libzmq gives no handle on a single connection of a server socket, but every received message carries its
/// descriptor (``ZMQMessage/sourceDescriptor``) and monitor events carry it too. A descriptor number is reused as
/// soon as libzmq closes it, so the number alone could name the wrong peer; the pair of addresses cannot (the same
/// four-tuple is not reused while the old connection lingers in TIME_WAIT). ``cut()`` therefore checks both
/// addresses again right before it acts, and only then shuts the connection down: libzmq sees the end of the stream
/// on its own I/O thread and closes the session as if the peer had left. The descriptor itself stays libzmq's.
public struct PeerConnection: Sendable, Hashable, CustomStringConvertible {
    /// The descriptor libzmq reads the connection from.
    public let descriptor: Int32
    /// `getsockname` and `getpeername` of the descriptor when it was looked at, as `address:port`.
    public let local: String
    public let remote: String

    /// The connection on `descriptor` now, or `nil` when the descriptor is not a connected inet socket.
    public init?(descriptor: Int32) {
        guard descriptor >= 0, let local = Self.address(descriptor, peer: false),
            let remote = Self.address(descriptor, peer: true)
        else { return nil }
        self.descriptor = descriptor
        self.local = local
        self.remote = remote
    }

    /// Whether `descriptor` still carries this very connection.
    public var isCurrent: Bool { PeerConnection(descriptor: descriptor) == self }

    /// Ends the connection (`shutdown(SHUT_RDWR)`) when the descriptor still carries it; returns whether it did.
    @discardableResult
    public func cut() -> Bool {
        guard isCurrent else { return false }
        return shutdown(descriptor, Int32(SHUT_RDWR)) == 0
    }

    public var description: String { "fd \(descriptor) \(remote) -> \(local)" }

    private static func address(_ descriptor: Int32, peer: Bool) -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                peer ? getpeername(descriptor, address, &length) : getsockname(descriptor, address, &length)
            }
        }
        guard rc == 0 else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    var ip = address.pointee.sin_addr
                    guard inet_ntop(AF_INET, &ip, &text, socklen_t(text.count)) != nil else { return nil }
                    return "\(String(cString: text)):\(UInt16(bigEndian: address.pointee.sin_port))"
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var ip = address.pointee.sin6_addr
                    guard inet_ntop(AF_INET6, &ip, &text, socklen_t(text.count)) != nil else { return nil }
                    return "[\(String(cString: text))]:\(UInt16(bigEndian: address.pointee.sin6_port))"
                }
            }
        default:
            return nil
        }
    }
}
