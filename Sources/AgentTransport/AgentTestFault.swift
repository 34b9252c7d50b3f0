#if canImport(Glibc)
import Glibc
#endif

/// A crash point for tests of what a crash leaves behind (docs/security.md#key-rotation): when armed, the agent
/// kills itself with SIGKILL exactly there, as a power cut or the OOM killer would. Armed only by the advanced
/// `DECNET_TEST_FAULT` environment variable, read once at start; a production agent leaves it unset (off).
public enum AgentTestFault: String, CaseIterable, Sendable {
    /// The new key's command handshake succeeded; the `.next` files are not renamed yet (nothing committed).
    case rotateBeforeCommit = "rotate-before-commit"
    /// The `.next` secret file was renamed over the key's secret file; its public file is not renamed yet.
    case rotateMidCommit = "rotate-mid-commit"

    /// The variable that arms a fault.
    public static let environmentVariable = "DECNET_TEST_FAULT"

    /// An unknown `DECNET_TEST_FAULT` value, said in one line.
    public struct Unknown: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The fault `environment` arms: `nil` when the variable is unset or empty; throws ``Unknown`` for any other
    /// value, so a misspelt fault never leaves a test believing it crashed the agent.
    public static func armed(environment: [String: String]) throws(Unknown) -> AgentTestFault? {
        guard let text = environment[environmentVariable], !text.isEmpty else { return nil }
        guard let fault = AgentTestFault(rawValue: text) else {
            let known = allCases.map(\.rawValue).joined(separator: ", ")
            throw Unknown(description: "\(environmentVariable) '\(String(text.prefix(64)))' is not one of: \(known)")
        }
        return fault
    }

    /// Kills this process with SIGKILL when `point` is the armed fault; returns otherwise.
    static func trip(_ point: AgentTestFault, armed: AgentTestFault?) {
        guard point == armed else { return }
        let line = "decnet-agent: \(environmentVariable)=\(point.rawValue): killing this process with SIGKILL\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        _ = kill(getpid(), SIGKILL)
    }
}
