/// How the master's core reaches its sockets. The server fills it in with the real sockets; tests of the core use
/// closures that record.
public struct MasterOutlets: Sendable {
    /// Sends one envelope over the command ROUTER to the connection with `routingId` (an agent's route); false when
    /// that connection is gone (or its queue is full) and nothing was sent.
    public var toAgent: @Sendable (_ routingId: [UInt8], _ frame: [UInt8]) async -> Bool
    /// Sends one control message to a control client; false when the client is gone.
    public var toControl: @Sendable (_ client: [UInt8], _ frame: [UInt8]) async -> Bool

    public init(
        toAgent: @escaping @Sendable ([UInt8], [UInt8]) async -> Bool,
        toControl: @escaping @Sendable ([UInt8], [UInt8]) async -> Bool
    ) {
        self.toAgent = toAgent
        self.toControl = toControl
    }

    /// Outlets that drop everything (before the sockets are open).
    public static let none = MasterOutlets(
        toAgent: { _, _ in false },
        toControl: { _, _ in false }
    )
}
