import AgentProtocol
import DecnetJSON

/// The hostile-message table: every frame here goes through the real `CommandDispatcher` (see
/// `HostileTableTests`), and a representative part of it over CURVE through the agent `buildAgent` assembles (`HostileWireTests`).
enum HostileCases {
    static var all: [HostileCase] { notJSON + envelopes + members + harmless + HostileCases.applies }

    /// Frames that are not one JSON value: answered `bad_request` with `id: null`, or `too_large`.
    static let notJSON: [HostileCase] = [
        .rejected("empty frame", [], .badRequest, path: ""),
        .rejected("binary junk", [0x00, 0xFF, 0x13, 0x37, 0xDE, 0xAD, 0xBE, 0xEF, 0x7B, 0x00], .badRequest),
        .rejected("whitespace only", Frames.text(" \n\t\r "), .badRequest),
        .rejected(
            "invalid UTF-8 in a string",
            Frames.text(#"{"proto":1,"type":"ping","id":"p"#) + [0xC3, 0x28] + Frames.text(#""}"#),
            .badRequest
        ),
        .rejected(
            "overlong UTF-8 for '/'",
            Frames.text(#"{"proto":1,"type":"ping","id":"a"#) + [0xC0, 0xAF] + Frames.text(#""}"#),
            .badRequest
        ),
        .rejected(
            "surrogate encoded as UTF-8",
            Frames.text(#"{"proto":1,"type":"ping","id":"a"#) + [0xED, 0xA0, 0x80] + Frames.text(#""}"#),
            .badRequest
        ),
        .rejected(
            "lone high surrogate escape in the id",
            Frames.text(#"{"proto":1,"type":"ping","id":"\ud800"}"#),
            .badRequest
        ),
        .rejected(
            "lone low surrogate escape as a key",
            Frames.text(#"{"\udc00":1,"proto":1,"type":"ping","id":"p"}"#),
            .badRequest
        ),
        .rejected(
            "control character inside a string",
            Frames.text(#"{"proto":1,"type":"ping","id":"a"#) + [0x01] + Frames.text(#""}"#),
            .badRequest
        ),
        .rejected("trailing garbage", Frames.ping("t1") + Frames.text(" x"), .badRequest),
        .rejected("two envelopes in one frame", Frames.ping("t2") + Frames.ping("t3"), .badRequest),
        .rejected("NUL byte after the envelope", Frames.ping("t4") + [0x00], .badRequest),
        .rejected("truncated envelope", Array(Frames.ping("t5").dropLast(3)), .badRequest),
        .rejected("single-quoted JSON", Frames.text("{'proto':1,'type':'ping','id':'p'}"), .badRequest),
        .rejected("top-level array", Frames.text("[") + Frames.ping("t6") + Frames.text("]"), .badRequest, path: ""),
        .rejected("top-level string", Frames.text(#""ping""#), .badRequest, path: ""),
        .rejected("top-level null", Frames.text("null"), .badRequest, path: ""),
        .rejected("top-level NaN", Frames.text("NaN"), .badRequest, path: ""),
        .rejected(
            "integer longer than 4300 digits",
            Frames.text(#"{"proto":1"# + Frames.long("0", 4400) + #","type":"ping","id":"p"}"#),
            .badRequest
        ),
        .rejected("nesting 513 levels deep", Frames.pingNested(id: "n513", depth: 512), .badRequest),
        .rejected("nesting 100k levels deep", Frames.pingNested(id: "n100k", depth: 100_000), .badRequest),
        .rejected("unclosed nesting 1M levels deep", Frames.text(Frames.long("[", 1_000_000)), .badRequest),
        .rejected(
            "one byte over the 16 MiB limit",
            [UInt8](repeating: 0x20, count: WireProtocol.defaultMaxEnvelopeBytes + 1),
            .tooLarge
        ),
    ]

    /// Envelopes whose `id`, `proto` or `type` is wrong.
    static let envelopes: [HostileCase] = [
        .rejected("id missing", Frames.envelope([("proto", 1), ("type", "ping")]), .badRequest, path: "/id"),
        .rejected(
            "id an integer",
            Frames.envelope([("proto", 1), ("type", "ping"), ("id", 7)]),
            .badRequest,
            path: "/id"
        ),
        .rejected("id null", Frames.envelope([("proto", 1), ("type", "ping"), ("id", nil)]), .badRequest, path: "/id"),
        .rejected("id NaN", Frames.text(#"{"proto":1,"type":"ping","id":NaN}"#), .badRequest, path: "/id"),
        .rejected("id empty", Frames.ping(""), .badRequest, path: "/id"),
        .rejected("id of 129 characters", Frames.ping(Frames.long("a", 129)), .badRequest, path: "/id"),
        .rejected("id of 2 MB", Frames.ping(Frames.long("a", 2_000_000)), .badRequest, path: "/id"),
        .rejected("id with a path traversal", Frames.ping("../../etc/passwd"), .badRequest, path: "/id"),
        .rejected("id with a space", Frames.ping("req 1"), .badRequest, path: "/id"),
        .rejected("id non-ASCII", Frames.ping("prüfung"), .badRequest, path: "/id"),
        .rejected("id with a NUL", Frames.ping("a\u{0}b"), .badRequest, path: "/id"),
        .rejected(
            "duplicate id, the last one invalid",
            Frames.text(#"{"id":"ok","proto":1,"type":"ping","id":"a b"}"#),
            .badRequest,
            path: "/id"
        ),
        .rejected(
            "proto missing",
            Frames.envelope([("type", "ping"), ("id", "e1")]),
            .badRequest,
            id: "e1",
            path: "/proto"
        ),
        .rejected(
            "proto a string",
            Frames.envelope([("proto", "1"), ("type", "ping"), ("id", "e2")]),
            .badRequest,
            id: "e2",
            path: "/proto"
        ),
        .rejected(
            "proto a float",
            Frames.envelope([("proto", 1.0), ("type", "ping"), ("id", "e3")]),
            .badRequest,
            id: "e3",
            path: "/proto"
        ),
        .rejected(
            "proto a boolean",
            Frames.envelope([("proto", true), ("type", "ping"), ("id", "e4")]),
            .badRequest,
            id: "e4",
            path: "/proto"
        ),
        .rejected(
            "proto NaN",
            Frames.text(#"{"proto":NaN,"type":"ping","id":"e5"}"#),
            .badRequest,
            id: "e5",
            path: "/proto"
        ),
        .rejected(
            "proto Infinity",
            Frames.text(#"{"proto":Infinity,"type":"ping","id":"e6"}"#),
            .badRequest,
            id: "e6",
            path: "/proto"
        ),
        .rejected(
            "proto 1e400 (a float)",
            Frames.text(#"{"proto":1e400,"type":"ping","id":"e7"}"#),
            .badRequest,
            id: "e7",
            path: "/proto"
        ),
        .rejected(
            "duplicate proto, the last one a string",
            Frames.text(#"{"proto":1,"type":"ping","id":"e8","proto":"1"}"#),
            .badRequest,
            id: "e8",
            path: "/proto"
        ),
        .rejected(
            "proto 2",
            Frames.envelope([("proto", 2), ("type", "ping"), ("id", "v2")]),
            .unsupportedProto,
            id: "v2"
        ),
        .rejected(
            "proto 0",
            Frames.envelope([("proto", 0), ("type", "ping"), ("id", "v0")]),
            .unsupportedProto,
            id: "v0"
        ),
        .rejected(
            "proto -1",
            Frames.envelope([("proto", -1), ("type", "ping"), ("id", "v-1")]),
            .unsupportedProto,
            id: "v-1"
        ),
        .rejected(
            "proto 10^100",
            Frames.text(#"{"proto":1"# + Frames.long("0", 100) + #","type":"ping","id":"vbig"}"#),
            .unsupportedProto,
            id: "vbig"
        ),
        .rejected("type missing", Frames.envelope([("proto", 1), ("id", "y1")]), .badRequest, id: "y1", path: "/type"),
        .rejected(
            "type an integer",
            Frames.envelope([("proto", 1), ("type", 1), ("id", "y2")]),
            .badRequest,
            id: "y2",
            path: "/type"
        ),
        .rejected(
            "type null",
            Frames.envelope([("proto", 1), ("type", nil), ("id", "y3")]),
            .badRequest,
            id: "y3",
            path: "/type"
        ),
        .rejected(
            "type an array",
            Frames.envelope([("proto", 1), ("type", ["apply"]), ("id", "y4")]),
            .badRequest,
            id: "y4",
            path: "/type"
        ),
        .rejected(
            "unknown type",
            Frames.envelope([("proto", 1), ("type", "reboot"), ("id", "u1")]),
            .unknownType,
            id: "u1"
        ),
        .rejected(
            "answer type result sent as a request",
            Frames.envelope([("proto", 1), ("type", "result"), ("id", "u2"), ("status", 200)]),
            .unknownType,
            id: "u2"
        ),
        .rejected(
            "answer type hello sent as a request",
            Frames.envelope([("proto", 1), ("type", "hello"), ("id", "u3"), ("agent_id", "x")]),
            .unknownType,
            id: "u3"
        ),
        .rejected(
            "answer type accepted sent as a request",
            Frames.envelope([("proto", 1), ("type", "accepted"), ("id", "u4")]),
            .unknownType,
            id: "u4"
        ),
        .rejected(
            "heartbeat sent as a request",
            Frames.envelope([("proto", 1), ("type", "heartbeat"), ("id", "u5")]),
            .unknownType,
            id: "u5"
        ),
        .rejected(
            "type in upper case",
            Frames.envelope([("proto", 1), ("type", "APPLY"), ("id", "u6")]),
            .unknownType,
            id: "u6"
        ),
        .rejected(
            "type with a NUL suffix",
            Frames.envelope([("proto", 1), ("type", "apply\u{0}"), ("id", "u7")]),
            .unknownType,
            id: "u7"
        ),
        .rejected(
            "type of 1 MB",
            Frames.envelope([("proto", 1), ("type", .string(JSONString(Frames.long("x", 1_000_000)))), ("id", "u8")]),
            .unknownType,
            id: "u8"
        ),
    ]

    /// Requests whose own members are missing or of the wrong type.
    static let members: [HostileCase] = [
        .rejected(
            "apply without hydrated",
            Frames.envelope([("proto", 1), ("type", "apply"), ("id", "m1"), ("version_hash", "00")]),
            .badRequest,
            id: "m1",
            path: "/hydrated"
        ),
        .rejected(
            "apply with hydrated as JSON text",
            Frames.envelope([
                ("proto", 1), ("type", "apply"), ("id", "m2"),
                ("hydrated", .string(JSONString(Frames.topology.jsonText))), ("version_hash", "00"),
            ]),
            .badRequest,
            id: "m2",
            path: "/hydrated"
        ),
        .rejected(
            "apply with hydrated an array",
            Frames.envelope([
                ("proto", 1), ("type", "apply"), ("id", "m3"), ("hydrated", [Frames.topology]), ("version_hash", "00"),
            ]),
            .badRequest,
            id: "m3",
            path: "/hydrated"
        ),
        .rejected(
            "apply with hydrated null",
            Frames.envelope([("proto", 1), ("type", "apply"), ("id", "m4"), ("hydrated", nil), ("version_hash", "00")]),
            .badRequest,
            id: "m4",
            path: "/hydrated"
        ),
        .rejected(
            "apply without version_hash",
            Frames.envelope([("proto", 1), ("type", "apply"), ("id", "m5"), ("hydrated", Frames.topology)]),
            .badRequest,
            id: "m5",
            path: "/version_hash"
        ),
        .rejected(
            "apply with version_hash an integer",
            Frames.envelope([
                ("proto", 1), ("type", "apply"), ("id", "m6"), ("hydrated", Frames.topology), ("version_hash", 0),
            ]),
            .badRequest,
            id: "m6",
            path: "/version_hash"
        ),
        .rejected(
            "apply with version_hash null",
            Frames.envelope([
                ("proto", 1), ("type", "apply"), ("id", "m7"), ("hydrated", Frames.topology), ("version_hash", nil),
            ]),
            .badRequest,
            id: "m7",
            path: "/version_hash"
        ),
        .rejected(
            "supersede a string",
            Frames.apply(id: "m8", extra: [("supersede", "true")]),
            .badRequest,
            id: "m8",
            path: "/supersede"
        ),
        .rejected(
            "supersede an integer",
            Frames.apply(id: "m9", extra: [("supersede", 1)]),
            .badRequest,
            id: "m9",
            path: "/supersede"
        ),
        .rejected(
            "supersede an object",
            Frames.apply(id: "m10", extra: [("supersede", [:])]),
            .badRequest,
            id: "m10",
            path: "/supersede"
        ),
        .rejected(
            "teardown without topology_id",
            Frames.envelope([("proto", 1), ("type", "teardown"), ("id", "d1")]),
            .badRequest,
            id: "d1",
            path: "/topology_id"
        ),
        .rejected(
            "teardown topology_id an integer",
            Frames.teardown(id: "d2", 42),
            .badRequest,
            id: "d2",
            path: "/topology_id"
        ),
        .rejected(
            "teardown topology_id null",
            Frames.teardown(id: "d3", nil),
            .badRequest,
            id: "d3",
            path: "/topology_id"
        ),
        .rejected(
            "teardown topology_id empty",
            Frames.teardown(id: "d4", ""),
            .badRequest,
            id: "d4",
            path: "/topology_id"
        ),
        .rejected(
            "teardown topology_id a path traversal",
            Frames.teardown(id: "d5", "../../etc"),
            .badRequest,
            id: "d5",
            path: "/topology_id"
        ),
        .rejected(
            "teardown topology_id an absolute path",
            Frames.teardown(id: "d6", "/var/lib/decnet-agent"),
            .badRequest,
            id: "d6",
            path: "/topology_id"
        ),
        .rejected(
            "teardown topology_id a hidden name",
            Frames.teardown(id: "d7", ".5d81934e"),
            .badRequest,
            id: "d7",
            path: "/topology_id"
        ),
        .rejected(
            "teardown topology_id with a NUL",
            Frames.teardown(id: "d8", "5d81934e\u{0}x"),
            .badRequest,
            id: "d8",
            path: "/topology_id"
        ),
        .rejected(
            "teardown topology_id of 300 characters",
            Frames.teardown(id: "d9", .string(JSONString(Frames.long("a", 300)))),
            .badRequest,
            id: "d9",
            path: "/topology_id"
        ),
        .rejected(
            "teardown topology_id with spaces",
            Frames.teardown(id: "d10", "5d81934e x"),
            .badRequest,
            id: "d10",
            path: "/topology_id"
        ),
        .rejected(
            "teardown topology_id non-ASCII",
            Frames.teardown(id: "d11", "5d81934é"),
            .badRequest,
            id: "d11",
            path: "/topology_id"
        ),
        .rejected(
            "teardown of the applied id with a trailing slash",
            Frames.teardown(id: "d12", .string(JSONString(Frames.topologyID + "/"))),
            .badRequest,
            id: "d12",
            path: "/topology_id"
        ),
    ]

    /// Odd but acceptable frames: answered with status 200 and nothing changes.
    static let harmless: [HostileCase] = [
        .harmless("UTF-8 byte order mark before a ping", [0xEF, 0xBB, 0xBF] + Frames.ping("bom"), id: "bom"),
        .harmless("ping with nesting 511 levels deep", Frames.pingNested(id: "n511", depth: 510), id: "n511"),
        .harmless("ping with nesting exactly 512 levels deep", Frames.pingNested(id: "n512", depth: 511), id: "n512"),
        .harmless(
            "ping with an unknown 8 MB string member",
            Frames.ping(id: "big", extra: "\"" + Frames.long("x", 8_000_000) + "\""),
            id: "big"
        ),
        .harmless(
            "ping with NaN and Infinity in an unknown member",
            Frames.ping(id: "nan", extra: "[NaN,Infinity,-Infinity,1e400]"),
            id: "nan"
        ),
        .harmless(
            "duplicate proto, the last one valid",
            Frames.text(#"{"proto":2,"type":"ping","id":"dup","proto":1}"#),
            id: "dup"
        ),
        .harmless(
            "state with a hydrated topology attached",
            Frames.envelope([("proto", 1), ("type", "state"), ("id", "st"), ("hydrated", Frames.topology)]),
            id: "st"
        ),
    ]
}
