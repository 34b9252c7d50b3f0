/// One multipart ZeroMQ message, copied out of libzmq: its frames, and for received messages the connection metadata
/// libzmq attaches (`zmq_msg_gets`).
///
/// On a ROUTER socket the first frame is the peer's routing id (see ``routingId`` and ``body``); the ZAP User-Id
/// of the peer's CURVE key is ``userId``, which is how the master knows who sent a message.
public struct ZMQMessage: Sendable, Hashable, CustomStringConvertible {
    /// The frames, in order; a single-frame message has one.
    public var frames: [[UInt8]]
    /// The `User-Id` metadata property: the user id the ZAP handler returned for this peer, or `nil` for a local
    /// message or a connection that was not authenticated through ZAP.
    public var userId: String?
    /// The `Peer-Address` metadata property (the peer's IP address for tcp), when libzmq provides it.
    public var peerAddress: String?
    /// The descriptor of the connection the message arrived on (libzmq's `__fd` property, `ZMQ_SRCFD`), for
    /// received tcp messages. It names a connection only while that connection is open: see ``PeerConnection``.
    public var sourceDescriptor: Int32?

    /// A message to send.
    public init(frames: [[UInt8]]) {
        self.frames = frames
        self.userId = nil
        self.peerAddress = nil
        self.sourceDescriptor = nil
    }

    /// A message to send whose frames are the UTF-8 bytes of `strings`.
    public init(_ strings: String...) {
        self.init(frames: strings.map { Array($0.utf8) })
    }

    /// A received message with its metadata.
    public init(frames: [[UInt8]], userId: String?, peerAddress: String?, sourceDescriptor: Int32? = nil) {
        self.frames = frames
        self.userId = userId
        self.peerAddress = peerAddress
        self.sourceDescriptor = sourceDescriptor
    }

    /// On a ROUTER socket: the routing id frame the socket put in front (`nil` for an empty message).
    public var routingId: [UInt8]? { frames.first }

    /// On a ROUTER socket: the frames after the routing id.
    public var body: ArraySlice<[UInt8]> { frames.dropFirst() }

    /// A frame decoded as UTF-8 (invalid sequences repaired), for logs and tests.
    public func string(at index: Int) -> String { String(decoding: frames[index], as: UTF8.self) }

    /// The total payload size in bytes.
    public var byteCount: Int { frames.reduce(0) { $0 + $1.count } }

    public var description: String {
        "ZMQMessage(\(frames.count) frames, \(byteCount) bytes\(userId.map { ", User-Id \($0)" } ?? ""))"
    }
}
