import DockerEngine
import Topology

extension RuntimeFailure {
    /// A Docker failure during `phase`: `unavailable` when the daemon cannot be reached, `failed` otherwise, with
    /// Docker's own message kept verbatim for `details.docker`.
    static func docker(_ error: DockerError, phase: String, _ what: String) -> RuntimeFailure {
        let kind: Kind = error.code == .unavailable ? .unavailable : .failed
        return RuntimeFailure(kind, phase: phase, "\(what): \(error.message)", engineMessage: error.message)
    }
}
