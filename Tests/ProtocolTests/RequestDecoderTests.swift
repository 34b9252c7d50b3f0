import AgentProtocol
import DecnetJSON
import Testing

@Suite("Request decoding")
struct RequestDecoderTests {
    let decoder = RequestDecoder(maxEnvelopeBytes: 4096)

    func decode(_ text: String) -> Result<Request, RejectedRequest> { decoder.decode(Array(text.utf8)) }

    struct Bad: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        let code: String
        let id: String?
        let path: String?
        var testDescription: String { name }
    }

    static let hydrated = #"{"topology":{"id":"t1"},"lans":[],"deckies":[],"edges":[]}"#
    static let hash = String(repeating: "a", count: 64)

    static let badCases: [Bad] = [
        Bad(name: "empty frame", text: "", code: "bad_request", id: nil, path: ""),
        Bad(name: "not JSON", text: "hello", code: "bad_request", id: nil, path: ""),
        Bad(name: "truncated JSON", text: #"{"proto":1,"type":"#, code: "bad_request", id: nil, path: ""),
        Bad(name: "array", text: "[1,2]", code: "bad_request", id: nil, path: ""),
        Bad(name: "string", text: #""apply""#, code: "bad_request", id: nil, path: ""),
        Bad(name: "null", text: "null", code: "bad_request", id: nil, path: ""),
        Bad(name: "missing id", text: #"{"proto":1,"type":"state"}"#, code: "bad_request", id: nil, path: "/id"),
        Bad(name: "numeric id", text: #"{"proto":1,"type":"state","id":7}"#, code: "bad_request", id: nil, path: "/id"),
        Bad(name: "empty id", text: #"{"proto":1,"type":"state","id":""}"#, code: "bad_request", id: nil, path: "/id"),
        Bad(
            name: "id with space",
            text: #"{"proto":1,"type":"state","id":"a b"}"#,
            code: "bad_request",
            id: nil,
            path: "/id"
        ),
        Bad(
            name: "id with slash",
            text: #"{"proto":1,"type":"state","id":"a/b"}"#,
            code: "bad_request",
            id: nil,
            path: "/id"
        ),
        Bad(
            name: "id non-ASCII",
            text: #"{"proto":1,"type":"state","id":"é"}"#,
            code: "bad_request",
            id: nil,
            path: "/id"
        ),
        Bad(
            name: "id too long",
            text: #"{"proto":1,"type":"state","id":"\#(String(repeating: "x", count: 129))"}"#,
            code: "bad_request",
            id: nil,
            path: "/id"
        ),
        Bad(name: "missing proto", text: #"{"type":"state","id":"r1"}"#, code: "bad_request", id: "r1", path: "/proto"),
        Bad(
            name: "string proto",
            text: #"{"proto":"1","type":"state","id":"r1"}"#,
            code: "bad_request",
            id: "r1",
            path: "/proto"
        ),
        Bad(
            name: "float proto",
            text: #"{"proto":1.0,"type":"state","id":"r1"}"#,
            code: "bad_request",
            id: "r1",
            path: "/proto"
        ),
        Bad(
            name: "proto 2",
            text: #"{"proto":2,"type":"state","id":"r1"}"#,
            code: "unsupported_proto",
            id: "r1",
            path: nil
        ),
        Bad(
            name: "proto huge",
            text: #"{"proto":100000000000000000000000,"type":"state","id":"r1"}"#,
            code: "unsupported_proto",
            id: "r1",
            path: nil
        ),
        Bad(name: "missing type", text: #"{"proto":1,"id":"r1"}"#, code: "bad_request", id: "r1", path: "/type"),
        Bad(
            name: "numeric type",
            text: #"{"proto":1,"type":3,"id":"r1"}"#,
            code: "bad_request",
            id: "r1",
            path: "/type"
        ),
        Bad(
            name: "unknown type",
            text: #"{"proto":1,"type":"reboot","id":"r1"}"#,
            code: "unknown_type",
            id: "r1",
            path: nil
        ),
        Bad(
            name: "answer type",
            text: #"{"proto":1,"type":"result","id":"r1"}"#,
            code: "unknown_type",
            id: "r1",
            path: nil
        ),
        Bad(
            name: "case differs",
            text: #"{"proto":1,"type":"STATE","id":"r1"}"#,
            code: "unknown_type",
            id: "r1",
            path: nil
        ),
        Bad(
            name: "apply without hydrated",
            text: #"{"proto":1,"type":"apply","id":"r1","version_hash":"\#(hash)"}"#,
            code: "bad_request",
            id: "r1",
            path: "/hydrated"
        ),
        Bad(
            name: "apply hydrated array",
            text: #"{"proto":1,"type":"apply","id":"r1","hydrated":[],"version_hash":"\#(hash)"}"#,
            code: "bad_request",
            id: "r1",
            path: "/hydrated"
        ),
        Bad(
            name: "apply hydrated string",
            text: #"{"proto":1,"type":"apply","id":"r1","hydrated":"{}","version_hash":"\#(hash)"}"#,
            code: "bad_request",
            id: "r1",
            path: "/hydrated"
        ),
        Bad(
            name: "apply without hash",
            text: #"{"proto":1,"type":"apply","id":"r1","hydrated":\#(hydrated)}"#,
            code: "bad_request",
            id: "r1",
            path: "/version_hash"
        ),
        Bad(
            name: "apply numeric hash",
            text: #"{"proto":1,"type":"apply","id":"r1","hydrated":\#(hydrated),"version_hash":1}"#,
            code: "bad_request",
            id: "r1",
            path: "/version_hash"
        ),
        Bad(
            name: "apply supersede string",
            text:
                #"{"proto":1,"type":"apply","id":"r1","hydrated":\#(hydrated),"version_hash":"\#(hash)","supersede":"yes"}"#,
            code: "bad_request",
            id: "r1",
            path: "/supersede"
        ),
        Bad(
            name: "teardown without id",
            text: #"{"proto":1,"type":"teardown","id":"r1"}"#,
            code: "bad_request",
            id: "r1",
            path: "/topology_id"
        ),
        Bad(
            name: "teardown numeric id",
            text: #"{"proto":1,"type":"teardown","id":"r1","topology_id":5}"#,
            code: "bad_request",
            id: "r1",
            path: "/topology_id"
        ),
        Bad(
            name: "teardown path traversal",
            text: #"{"proto":1,"type":"teardown","id":"r1","topology_id":"../../etc"}"#,
            code: "bad_request",
            id: "r1",
            path: "/topology_id"
        ),
        Bad(
            name: "teardown empty id",
            text: #"{"proto":1,"type":"teardown","id":"r1","topology_id":""}"#,
            code: "bad_request",
            id: "r1",
            path: "/topology_id"
        ),
        Bad(
            name: "too deep",
            text: String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
            code: "bad_request",
            id: nil,
            path: ""
        ),
        Bad(
            name: "lone surrogate",
            text: #"{"proto":1,"type":"state","id":"r1","x":"\ud800"}"#,
            code: "bad_request",
            id: nil,
            path: ""
        ),
        Bad(
            name: "over the size limit",
            text: #"{"proto":1,"type":"state","id":"r1","pad":"\#(String(repeating: "x", count: 5000))"}"#,
            code: "too_large",
            id: nil,
            path: nil
        ),
    ]

    @Test(arguments: badCases)
    func malformedEnvelopesGetTheirCode(_ c: Bad) throws {
        switch decode(c.text) {
        case .success: Issue.record("accepted \(c.name)")
        case .failure(let rejected):
            #expect(rejected.error.code.rawValue == c.code)
            #expect(rejected.id == c.id)
            if let path = c.path { #expect(rejected.error.details["path"] == .string(JSONString(path))) }
            // The answer is always a well-formed result envelope.
            let answer = Messages.failure(id: rejected.id, error: rejected.error)
            #expect(answer["type"] == "result")
            #expect(answer["status"]?.intValue == rejected.error.status)
        }
    }

    @Test func validRequestsDecode() throws {
        let apply = try decode(
            #"{"proto":1,"type":"apply","id":"a-1","hydrated":\#(Self.hydrated),"version_hash":"\#(Self.hash)","supersede":true,"extra":1}"#
        ).get()
        guard case .apply(let a) = apply.body else {
            Issue.record("not apply")
            return
        }
        #expect(a.supersede)
        #expect(a.versionHash == Self.hash)
        #expect(apply.type == .apply)
        let teardown = try decode(
            #"{"proto":1,"type":"teardown","id":"t:1","topology_id":"5d81934e-4a18-580f-bd50-6df4ca24a41a"}"#
        ).get()
        guard case .teardown(let tid) = teardown.body else {
            Issue.record("not teardown")
            return
        }
        #expect(tid == "5d81934e-4a18-580f-bd50-6df4ca24a41a")
        #expect(try decode(#"{"proto":1,"type":"state","id":"s"}"#).get().type == .state)
        #expect(try decode(#"{"id":"p","type":"ping","proto":1}"#).get().type == .ping)
    }

    @Test func fingerprintIgnoresIdOrderAndUnknownMembers() throws {
        let a = try decode(#"{"proto":1,"type":"apply","id":"a","hydrated":{"b":1,"a":2},"version_hash":"h"}"#).get()
        let b = try decode(
            #"{"version_hash":"h","hydrated":{"a":2,"b":1},"type":"apply","proto":1,"id":"b","note":"retry"}"#
        ).get()
        let c = try decode(#"{"proto":1,"type":"apply","id":"a","hydrated":{"b":1,"a":2.0},"version_hash":"h"}"#).get()
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.fingerprint != c.fingerprint)
    }

    @Test func statusNumbersFollowTheSeed() {
        #expect(ErrorCode.all.count == 15)
        #expect(ErrorCode.keyRotationFailed.status == 500)
        #expect(ErrorCode.conflict.status == 409)
        #expect(ErrorCode.tooLarge.status == 413)
        #expect(ErrorCode.dockerUnavailable.status == 503)
        #expect(ErrorCode.invalidTopology.status == 400)
        #expect(ErrorCode.runtimeError.status == 500)
    }

    @Test func identifiers() {
        #expect(Identifiers.isValidAgentID("host-17"))
        #expect(Identifiers.isValidAgentID("9b2e4c1a-0d3f-4e5a-8b6c-7d8e9f0a1b2c"))
        #expect(!Identifiers.isValidAgentID(".hidden"))
        #expect(!Identifiers.isValidAgentID(String(repeating: "a", count: 65)))
        #expect(!Identifiers.isValidAgentID("a:b"))
        #expect(Identifiers.isValidRequestID("req:1.2_3-4"))
        #expect(Identifiers.isCanonicalHash(String(repeating: "f", count: 64)))
        #expect(!Identifiers.isCanonicalHash(String(repeating: "F", count: 64)))
    }
}

@Suite("Message frames")
struct MessageFrameTests {
    @Test func preencodedResultFrameEqualsTheEncodedResult() {
        let body: JSONValue = ["topology_id": "t", "observed": ["bridges": ["b"], "containers": []], "n": 1.5]
        let spliced = Messages.resultFrame(id: "req:1.2_3-4", encodedBody: PythonJSONEncoder().encode(body))
        #expect(spliced == Messages.frame(Messages.result(id: "req:1.2_3-4", body: body)))
    }
}
