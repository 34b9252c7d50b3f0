import AgentProtocol
import ArgumentParser
import CLISupport
import DecnetJSON
import Foundation
import Master
import ZeroMQ

/// `decnet-master rotate-key --agent ID`: the agent makes a new key pair, the master lists it beside the old one,
/// the agent dials with it, and the old key is removed once the master has seen the new connection
/// (docs/security.md#key-rotation, docs/operations.md#rotate). Running it again after an interruption resumes.
struct RotateKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Give an agent a new key pair without downtime; the old key is refused afterwards."
    )

    @OptionGroup var directory: DirectoryOptions

    @Option(help: "The agent whose key is rotated.")
    var agent: String

    @Option(help: "Seconds to wait for each step (the agent must be connected), more than 0 and at most 3600.")
    var timeout: Double = 60

    func run() async throws {
        guard timeout.isFinite, timeout > 0, timeout <= 3600 else {
            OperatorIO.fail("--timeout must be more than 0 and at most 3600 seconds")
        }
        let rollover = AgentKeyRollover(
            directory: MasterDirectory(directory.path, runPath: directory.controlDirectory),
            agentID: agent
        )
        let old: CurveKey
        do {
            old = try rollover.currentKey()
        } catch {
            OperatorIO.fail("rotate-key: \(error.message) [\(error.code)]", status: error.code == .badRequest ? 2 : 1)
        }
        let agent = self.agent
        let step = Duration.milliseconds(Int64(timeout * 1000))
        let new = try await ControlSession.with(directory.controlDirectory) { client throws(MasterError) -> CurveKey in
            // Resuming: the agent already dials with the listed next key.
            if let listed = rollover.nextKey(), try await Self.connectedKey(client, agent) == listed.fingerprint {
                return listed
            }
            let prepared = try await Self.ask(client, agent, .prepare, step)
            guard let z85 = prepared["public_key"]?.stringValue, let key = try? CurveKey(z85: z85), key != old else {
                throw MasterError(
                    .badRequest,
                    operation: "rotate-key \(agent)",
                    message: "the agent's answer has no new key"
                )
            }
            try rollover.enrolNext(key)
            FileHandle.standardError.write(
                Data("listed the next key \(key.fingerprint) as \(rollover.nextPath)\n".utf8)
            )
            _ = try await Self.ask(client, agent, .activate, step)
            let deadline = ContinuousClock.now + step
            while ContinuousClock.now < deadline {
                if try await Self.connectedKey(client, agent) == key.fingerprint { return key }
                try? await Task.sleep(for: .milliseconds(200))
            }
            throw MasterError(
                .timeout,
                operation: "rotate-key \(agent)",
                message: "the agent was not seen with its next key in time; both keys stay listed; run rotate-key again"
            )
        }
        do {
            try rollover.finish()
        } catch {
            OperatorIO.fail("rotate-key: \(error.message) [\(error.code)]", status: 1)
        }
        print("rotated \(agent): \(old.fingerprint) -> \(new.fingerprint)")
    }

    /// Sends one `rotate_key` request and returns the body of its successful result.
    static func ask(
        _ client: ControlClient,
        _ agent: String,
        _ phase: KeyRotationPhase,
        _ timeout: Duration
    )
        async throws(MasterError) -> JSONObject
    {
        let id = "rotate-" + UUID().uuidString.lowercased()
        let request = OutgoingRequest(id: id, .rotateKey(phase)).jsonValue
        let result = try await client.submit(agentID: agent, request: request, timeout: timeout)
        guard result["status"]?.intValue == 200, let body = result["body"]?.objectValue else {
            let code = result["error"]?["code"]?.stringValue ?? "error"
            let text = result["error"]?["message"]?.stringValue ?? "refused"
            throw MasterError(
                .badRequest,
                operation: "rotate-key \(agent) \(phase.rawValue)",
                message: "\(text) [\(code)]"
            )
        }
        return body
    }

    /// The fingerprint of the key the agent is connected with now, if it is connected.
    static func connectedKey(_ client: ControlClient, _ agent: String) async throws(MasterError) -> String? {
        let fleet = try await client.fleet()
        let record = fleet["agents"]?.arrayValue?.first { $0["agent_id"]?.stringValue == agent }
        guard record?["connected"]?.boolValue == true else { return nil }
        return record?["key_fingerprint"]?.stringValue
    }
}
