import CZeroMQ
import Testing
import ZeroMQ

@Suite struct CurveKeyTests {
    @Test func thisLibzmqHasCurve() throws {
        #expect(ZMQContext.hasCurve)
        try ZMQContext.checkCurve()
        #expect(ZMQContext.version.hasPrefix("4."))
    }

    @Test func generatedPairsAreDistinctAndConsistent() throws {
        let first = try CurveKeyPair.generate()
        let second = try CurveKeyPair.generate()
        #expect(first.publicKey != second.publicKey)
        #expect(first.secretKey != second.secretKey)
        #expect(first.publicKey.bytes.count == 32)
        #expect(first.secretKey.count == 32)
        // Deriving the public key from the secret gives the generated one.
        let derived = try CurveKeyPair(secretKey: first.secretKey)
        #expect(derived.publicKey == first.publicKey)
        let fromText = try CurveKeyPair(secretKeyZ85: first.secretKeyZ85)
        #expect(fromText.publicKey == first.publicKey)
        #expect(fromText.secretKey == first.secretKey)
    }

    @Test func derivationAgreesWithLibzmq() throws {
        var publicText = [CChar](repeating: 0, count: 41)
        var secretText = [CChar](repeating: 0, count: 41)
        #expect(zmq_curve_keypair(&publicText, &secretText) == 0)
        let publicZ85 = String(decoding: publicText.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let secretZ85 = String(decoding: secretText.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let pair = try CurveKeyPair(secretKeyZ85: secretZ85)
        #expect(pair.publicKey.z85 == publicZ85)
        #expect(pair.secretKeyZ85 == secretZ85)
    }

    @Test func keysRoundTripThroughZ85() throws {
        let key = try CurveKeyPair.generate().publicKey
        #expect(try CurveKey(z85: key.z85) == key)
        #expect(try CurveKey(bytes: key.bytes) == key)
        #expect(key.description == key.z85)
    }

    @Test(arguments: [
        "", "short", String(repeating: "a", count: 39), String(repeating: "a", count: 41),
        String(repeating: "\"", count: 40),
    ])
    func invalidPublicKeyTextIsRefused(text: String) {
        #expect(throws: ZMQError.self) { try CurveKey(z85: text) }
        do {
            _ = try CurveKey(z85: text)
        } catch {
            #expect(error.code == .invalidKey)
        }
    }

    @Test func invalidKeyLengthsAreRefused() {
        #expect(throws: ZMQError.self) { try CurveKey(bytes: [UInt8](repeating: 1, count: 31)) }
        #expect(throws: ZMQError.self) { try CurveKeyPair(secretKey: SecretBytes(copying: [1, 2, 3])) }
        #expect(throws: ZMQError.self) { try CurveKeyPair(secretKeyZ85: "not a key") }
    }

    @Test func secretBytesCompareByContentAndNeverPrintIt() {
        let a = SecretBytes(copying: [1, 2, 3, 4])
        let b = SecretBytes(copying: [1, 2, 3, 4])
        let c = SecretBytes(copying: [1, 2, 3, 5])
        #expect(a == b)
        #expect(a != c)
        #expect(a.description == "SecretBytes(4 bytes)")
        #expect(a.withUnsafeBytes { Array($0) } == [1, 2, 3, 4])
    }
}
