import Foundation
import TestSupport
import Testing
import ZeroMQ

@Suite struct CertificateTests {
    /// A secret certificate exactly as pyzmq 27 writes it (banner, empty metadata, Z85 containing `#` and `=`).
    static let pyzmqSecret = """
        #   ****  Generated on 2026-11-24 16:27:37.440960 by pyzmq  ****
        #   ZeroMQ CURVE **Secret** Certificate
        #   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

        metadata
        curve
            public-key = "6BN/wIsJx962F.{-6PU}H??[8%5&ri30OvF/.D}a"
            secret-key = "YqqUEah*5(oQ)F3u{)a<&#PJM:9>m-ZECG$FxBZ["

        """

    @Test func loadsPyzmqOutputWithHashInTheKey() throws {
        let certificate = try ZMQCertificate.parse(Self.pyzmqSecret)
        #expect(certificate.publicKey.z85 == "6BN/wIsJx962F.{-6PU}H??[8%5&ri30OvF/.D}a")
        #expect(certificate.keyPair?.secretKeyZ85 == "YqqUEah*5(oQ)F3u{)a<&#PJM:9>m-ZECG$FxBZ[")
        #expect(certificate.metadata.isEmpty)
        #expect(certificate.agentID == nil)
    }

    @Test func toleratesMissingMetadataUnquotedValuesCommentsAndCRLF() throws {
        let key = try CurveKeyPair.generate()
        let text =
            "# comment\r\n\r\nmetadata\r\n    agent-id = host-17\r\n  # indented comment\r\n"
            + "    role = 'agent'   # trailing text after a quoted value\r\ncurve\r\n"
            + "    public-key = \"\(key.publicKey.z85)\"\r\n"
        let certificate = try ZMQCertificate.parse(text)
        #expect(certificate.agentID == "host-17")
        #expect(certificate.role == "agent")
        #expect(certificate.publicKey == key.publicKey)
        #expect(certificate.secretKey == nil)

        let bare = try ZMQCertificate.parse("curve\n\tpublic-key = \"\(key.publicKey.z85)\"\n")
        #expect(bare.publicKey == key.publicKey)
        #expect(bare.metadata.isEmpty)
    }

    @Test(arguments: [
        "metadata\n",  // no curve section
        "curve\n    public-key = \"short\"\n",  // not a key
        "curve\n    public-key = \"6BN/wIsJx962F.{-6PU}H??[8%5&ri30OvF/.D}a\n",  // unterminated quote
        // the key twice
        "curve\n    public-key = \"6BN/wIsJx962F.{-6PU}H??[8%5&ri30OvF/.D}a\"\n"
            + "    public-key = \"6BN/wIsJx962F.{-6PU}H??[8%5&ri30OvF/.D}a\"\n",
        "curve\n    = \"value\"\n",  // no name
    ])
    func refusesMalformedText(text: String) {
        do {
            _ = try ZMQCertificate.parse(text)
            Issue.record("parsed \(text.debugDescription)")
        } catch {
            #expect(error.code == .invalidCertificate)
        }
    }

    @Test func refusesASecretThatDoesNotMatchItsPublicKey() throws {
        let one = try CurveKeyPair.generate()
        let other = try CurveKeyPair.generate()
        let text = "curve\n    public-key = \"\(one.publicKey.z85)\"\n    secret-key = \"\(other.secretKeyZ85)\"\n"
        #expect(throws: ZMQError.self) { try ZMQCertificate.parse(text) }
    }

    @Test func writesBothFilesWithTheirModesAndReadsThemBack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let certificate = try ZMQCertificate.generate(metadata: ["agent-id": "host-17", "role": "agent"])
        try certificate.write(directory: directory.path, name: "host-17")

        #expect(try mode(directory.file("host-17.key_secret")) == 0o600)
        #expect(try mode(directory.file("host-17.key")) == 0o644)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
                == ["host-17.key", "host-17.key_secret"]
        )

        let secret = try ZMQCertificate.loadSecret(directory: directory.path, name: "host-17")
        #expect(secret.publicKey == certificate.publicKey)
        #expect(secret.secretKey == certificate.secretKey)
        #expect(secret.metadata == ["agent-id": "host-17", "role": "agent"])
        let publicOnly = try ZMQCertificate.load(path: directory.file("host-17.key"))
        #expect(publicOnly.publicKey == certificate.publicKey)
        #expect(publicOnly.secretKey == nil)
        #expect(publicOnly.agentID == "host-17")
        let publicText = try String(contentsOfFile: directory.file("host-17.key"), encoding: .utf8)
        #expect(!publicText.contains("secret-key"))
        #expect(publicText.contains("    agent-id = \"host-17\"\n    role = \"agent\"\n"))
    }

    @Test func refusesToOverwriteUnlessAsked() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try ZMQCertificate.generate()
        try first.write(directory: directory.path, name: "master")
        let second = try ZMQCertificate.generate()
        do {
            try second.write(directory: directory.path, name: "master")
            Issue.record("overwrote an existing certificate")
        } catch {
            #expect(error.code == .io)
        }
        #expect(try ZMQCertificate.loadSecret(directory: directory.path, name: "master").publicKey == first.publicKey)
        try second.write(directory: directory.path, name: "master", overwrite: true)
        #expect(try ZMQCertificate.loadSecret(directory: directory.path, name: "master").publicKey == second.publicKey)
        #expect(try mode(directory.file("master.key_secret")) == 0o600)
    }

    @Test func metadataValuesWithQuotesUseTheOtherQuote() throws {
        let key = try CurveKeyPair.generate().publicKey
        let certificate = ZMQCertificate(publicKey: key, metadata: ["note": "say \"hi\"", "agent-id": "a.b_c-1"])
        let text = try certificate.render(includeSecret: false)
        #expect(text.contains("note = 'say \"hi\"'"))
        #expect(try ZMQCertificate.parse(text).metadata == certificate.metadata)
        let bad = ZMQCertificate(publicKey: key, metadata: ["bad name": "x"])
        #expect(throws: ZMQError.self) { try bad.render(includeSecret: false) }
        let badValue = ZMQCertificate(publicKey: key, metadata: ["name": "two\nlines"])
        #expect(throws: ZMQError.self) { try badValue.render(includeSecret: false) }
        #expect(throws: ZMQError.self) { try certificate.render(includeSecret: true) }
    }

    @Test func missingFilesAreIOErrors() throws {
        do {
            _ = try ZMQCertificate.load(path: "/nonexistent/dir/x.key")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.code == .io)
            #expect(error.errno == ENOENT)
        }
    }

    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
    }
}
