import Foundation
import ZeroMQ

/// The CURVE identities of one simulated fleet: a fresh key pair per agent and one for the monitor, generated in
/// this process. Only public certificates are written, into the master's allow-lists (`agents/`, `monitors/`); the
/// secret keys never leave memory.
struct FleetKeys: Sendable {
    struct Agent: Sendable {
        let id: String
        let keys: CurveKeyPair
    }

    let agents: [Agent]
    let monitorID: String
    let monitor: CurveKeyPair

    /// Generates `count` agent keys named `PREFIX00001`... and a monitor key.
    static func generate(count: Int, prefix: String) throws(ZMQError) -> FleetKeys {
        let width = max(5, String(count).count)
        var agents: [Agent] = []
        agents.reserveCapacity(count)
        for index in 1...count {
            let number = String(index)
            let id = prefix + String(repeating: "0", count: width - number.count) + number
            agents.append(Agent(id: id, keys: try CurveKeyPair.generate()))
        }
        return FleetKeys(agents: agents, monitorID: prefix + "monitor", monitor: try CurveKeyPair.generate())
    }

    /// Writes `agents/ID.key` (with `agent-id` and `role = agent`) for every agent and `monitors/ID.key` for the
    /// monitor under `masterDirectory`, replacing earlier files of the same names.
    func enrol(masterDirectory: String) throws(ZMQError) {
        let agentsPath = masterDirectory + "/agents"
        let monitorsPath = masterDirectory + "/monitors"
        for path in [agentsPath, monitorsPath] {
            do {
                try FileManager.default.createDirectory(
                    atPath: path,
                    withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700]
                )
            } catch {
                throw ZMQError(.io, operation: "create \(path)", message: error.localizedDescription)
            }
        }
        for agent in agents {
            try ZMQCertificate(publicKey: agent.keys.publicKey, metadata: ["agent-id": agent.id, "role": "agent"])
                .write(directory: agentsPath, name: agent.id, overwrite: true)
        }
        try ZMQCertificate(publicKey: monitor.publicKey, metadata: ["role": "monitor"])
            .write(directory: monitorsPath, name: monitorID, overwrite: true)
    }
}
