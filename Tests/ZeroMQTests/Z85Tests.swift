import CZeroMQ
import Testing
import ZeroMQ

@Suite struct Z85Tests {
    @Test func encodesTheSpecificationVector() {
        // RFC 32's example: 8 bytes become "HelloWorld".
        let bytes: [UInt8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]
        #expect(Z85.encode(bytes) == "HelloWorld")
        #expect(Z85.decode("HelloWorld") == bytes)
    }

    @Test(arguments: [0, 4, 8, 32, 64, 256])
    func agreesWithLibzmq(count: Int) {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let ours = Z85.encode(bytes)
            var text = [CChar](repeating: 0, count: count / 4 * 5 + 1)
            #expect(zmq_z85_encode(&text, bytes, count) != nil)
            let theirs = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            #expect(ours == theirs)
            var decoded = [UInt8](repeating: 0, count: count)
            if count > 0 { #expect(zmq_z85_decode(&decoded, ours) != nil) }
            #expect(Z85.decode(ours) == bytes)
            #expect(decoded == bytes)
        }
    }

    @Test func edgeValues() {
        #expect(Z85.encode([0, 0, 0, 0]) == "00000")
        #expect(Z85.encode([0xFF, 0xFF, 0xFF, 0xFF]) == "%nSc0")
        #expect(Z85.decode("%nSc0") == [0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test(arguments: ["HelloWorl", "Hello Worl", "Hello\"orld", "%nSc1", "#####", "héllo"])
    func rejectsInvalidText(text: String) {
        // Wrong length, characters outside the alphabet, and groups above 2^32 - 1 ("%nSc1", "#####").
        #expect(Z85.decode(text) == nil)
    }
}
