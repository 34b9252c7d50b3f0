import AgentProtocol
import DecnetJSON

/// What answers the master's `rotate_key` requests (docs/wire-protocol.md#rotate-key): the agent's own key files and
/// the link that dials with them. Lives outside the core, which knows no keys.
public protocol AgentKeyRotation: Sendable {
    /// `prepare`: the next key pair made (or the one made before) and its public key; `activate`: dial again with
    /// it. The answer's body, or the error to answer.
    func rotate(_ phase: KeyRotationPhase) async -> Result<JSONValue, AgentError>
}
