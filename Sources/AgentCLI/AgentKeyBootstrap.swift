import CLISupport
import Logging
import SystemFiles
import ZeroMQ

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The agent's own key pair on first start (docs/security.md#enrolment): `decnet-agent run` makes one when neither
/// half exists, so a fresh agent can dial, be refused, and show up in the master's `keys list` as pending. Its
/// fingerprint is what the operator compares before accepting it.
enum AgentKeyBootstrap {
    /// Makes `NAME.key_secret` and `NAME.key` when `secretPath` (a `NAME.key_secret` path) and its public half are
    /// both missing; returns true when it made them. A half-present pair is left alone (loading it reports why).
    static func ensure(secretPath: String, agentID: String) throws -> Bool {
        guard secretPath.hasSuffix(ZMQCertificate.secretSuffix) else { return false }
        let stem = String(secretPath.dropLast(ZMQCertificate.secretSuffix.count))
        let publicPath = stem + ZMQCertificate.publicSuffix
        guard !FileManager.default.fileExists(atPath: secretPath), !FileManager.default.fileExists(atPath: publicPath)
        else { return false }
        let slash = stem.lastIndex(of: "/")
        let directory = slash.map { String(stem[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let name = slash.map { String(stem[stem.index(after: $0)...]) } ?? stem
        try FileManager.default.createDirectory(
            atPath: directory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        let certificate = try ZMQCertificate.generate(metadata: ["role": "agent", "agent-id": agentID])
        try certificate.write(directory: directory, name: name, overwrite: false)
        return true
    }

    /// The line both `keygen` and `run` print, so an operator can compare it with `decnet-master keys list`.
    static func fingerprintLine(_ key: CurveKey) -> String {
        "fingerprint \(key.fingerprint)"
    }
}
