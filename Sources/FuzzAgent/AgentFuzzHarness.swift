import AgentProtocol
import DecnetJSON
import Topology

/// What one fuzz input goes through: the agent's command-frame decoder (with the real limit and with a small one),
/// the CPython-compatible JSON parser, both encoders and the canonical hash, then the topology validator, the
/// materialisation check and the composer. Each step's invariants are checked; see the `+JSON` and `+Topology` files.
enum AgentFuzzHarness {
    /// A limit small enough that fuzzed inputs cross it often, so the `too_large` path is exercised too.
    static let smallLimit = 256
    static let decoder = RequestDecoder()
    static let smallDecoder = RequestDecoder(maxEnvelopeBytes: smallLimit)

    static func run(_ bytes: [UInt8]) {
        let decoded = decoder.decode(bytes)
        checkDecoded(decoded)
        checkSmallLimit(smallDecoder.decode(bytes), against: decoded, size: bytes.count)

        guard let value = try? JSONParser.parse(bytes) else { return }
        checkEncodings(value)
        checkTopology(value)
        // Seeds are mostly apply envelopes: give their topology the same treatment.
        if case .object(let envelope) = value, let hydrated = envelope["hydrated"], case .object = hydrated {
            checkEncodings(hydrated)
            checkTopology(hydrated)
        }
    }

    /// A decoded request is well-formed; a rejection has a known code, a matching status and an answer that parses.
    static func checkDecoded(_ result: Result<Request, RejectedRequest>) {
        switch result {
        case .success(let request):
            FuzzInvariant.check(Identifiers.isValidRequestID(request.id), "accepted an invalid request id")
            FuzzInvariant.check(Identifiers.isCanonicalHash(request.fingerprint), "fingerprint is not 64 hex digits")
            if case .teardown(let topologyID) = request.body {
                FuzzInvariant.check(Identifiers.isValidTopologyID(topologyID), "accepted an invalid teardown id")
            }
        case .failure(let rejected):
            let code = rejected.error.code
            FuzzInvariant.check(ErrorCode.all.contains(code), "unknown error code \(code)")
            FuzzInvariant.check(rejected.error.status >= 400, "a rejection with status \(rejected.error.status)")
            if let id = rejected.id {
                FuzzInvariant.check(Identifiers.isValidRequestID(id), "a rejection answered with an invalid id")
            }
            // The answer the agent would send must itself be valid JSON carrying the same code and id.
            let frame = Messages.frame(Messages.failure(id: rejected.id, error: rejected.error))
            guard let answer = try? JSONParser.parse(frame) else {
                FuzzInvariant.fail("the rejection answer is not JSON")
            }
            FuzzInvariant.check(
                answer["error"]?["code"]?.stringValue == rejected.error.code.rawValue,
                "answer lost its error code"
            )
            FuzzInvariant.check(answer["id"]?.stringValue == rejected.id, "answer lost its id")
        }
    }

    /// Under the small limit, a longer frame is `too_large` with a null id; anything else decodes exactly as with the
    /// real limit.
    static func checkSmallLimit(
        _ small: Result<Request, RejectedRequest>,
        against full: Result<Request, RejectedRequest>,
        size: Int
    ) {
        switch (small, full) {
        case (.failure(let s), _) where size > smallLimit:
            FuzzInvariant.check(s.error.code == .tooLarge && s.id == nil, "over the limit but not too_large")
        case (.success(let s), .success(let f)):
            FuzzInvariant.check(s.id == f.id && s.fingerprint == f.fingerprint, "limits changed a decoded request")
        case (.failure(let s), .failure(let f)):
            FuzzInvariant.check(s.id == f.id && s.error.code == f.error.code, "limits changed a rejection")
        default:
            FuzzInvariant.fail("the small limit changed the decoding of a \(size)-byte frame")
        }
    }
}
