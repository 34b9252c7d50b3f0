import AgentProtocol
import DecnetJSON
import TestSupport
import Topology

/// Apply requests that decode but must be refused before any Docker call: wrong hashes, malformed topologies, and
/// names that would break Docker object names or escape the state directory's paths. Each reuses the applied
/// topology's id where it can, so an apply that got through would visibly replace what runs.
extension HostileCases {
    static let hugeName = JSONValue.string(JSONString(Frames.long("d", 4_000_000)))
    static let longName = JSONValue.string(JSONString(Frames.long("n", 300)))

    static var applies: [HostileCase] { hashes + shapes + topologyIDs + lanNames + deckyNames + others }

    static let hashes: [HostileCase] = [
        .refusedApply("apply with a short version_hash", Frames.apply(id: "h1", hash: "00"), .hashMismatch, id: "h1"),
        .refusedApply(
            "apply with the right hash in upper case",
            Frames.apply(id: "h2", hash: CanonicalHashText.upper),
            .hashMismatch,
            id: "h2"
        ),
        .refusedApply(
            "apply with a 1 MB version_hash",
            Frames.apply(id: "h3", hash: Frames.long("f", 1_000_000)),
            .hashMismatch,
            id: "h3"
        ),
        .refusedApply(
            "apply with the hash of another topology",
            Frames.apply(id: "h4", hash: CanonicalHashText.other),
            .hashMismatch,
            id: "h4"
        ),
    ]

    static let shapes: [HostileCase] = [
        .refusedApply(
            "hydrated an empty object",
            Frames.apply(id: "s1", [:]),
            .invalidTopology,
            id: "s1",
            issue: "MALFORMED"
        ),
        .refusedApply(
            "lans a string",
            Frames.apply(id: "s2", Frames.topology { $0["lans"] = "LAN-00" }),
            .invalidTopology,
            id: "s2",
            issue: "MALFORMED"
        ),
        .refusedApply(
            "deckies a number",
            Frames.apply(id: "s3", Frames.topology { $0["deckies"] = 5 }),
            .invalidTopology,
            id: "s3",
            issue: "MALFORMED"
        ),
        .refusedApply(
            "edges missing",
            Frames.apply(id: "s4", Frames.topology { $0["edges"] = nil }),
            .invalidTopology,
            id: "s4",
            issue: "MALFORMED"
        ),
        .refusedApply(
            "topology member a list",
            Frames.apply(id: "s5", Frames.topology { $0["topology"] = [] }),
            .invalidTopology,
            id: "s5",
            issue: "MALFORMED"
        ),
    ]

    static let topologyIDs: [HostileCase] = [
        .refusedApply(
            "topology id missing",
            Frames.apply(id: "i1", Frames.topology(id: nil)),
            .invalidTopology,
            id: "i1",
            issue: "MALFORMED"
        ),
        .refusedApply(
            "topology id an integer",
            Frames.apply(id: "i2", Frames.topology(id: 42)),
            .invalidTopology,
            id: "i2",
            issue: "MALFORMED"
        ),
        .refusedApply(
            "topology id empty",
            Frames.apply(id: "i3", Frames.topology(id: "")),
            .invalidTopology,
            id: "i3",
            issue: "MALFORMED"
        ),
        .refusedApply(
            "topology id a path traversal",
            Frames.apply(id: "i4", Frames.topology(id: "../../etc")),
            .invalidTopology,
            id: "i4",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "topology id with a slash in its first 8 characters",
            Frames.apply(id: "i5", Frames.topology(id: "5d81/34e-4a18")),
            .invalidTopology,
            id: "i5",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "topology id with a NUL",
            Frames.apply(id: "i8", Frames.topology(id: "5d8\u{0}934e")),
            .invalidTopology,
            id: "i8",
            issue: "NAME_UNSAFE"
        ),
    ]

    /// Topology ids whose first 8 characters are safe in Docker names but that a teardown refuses (`bad_request`):
    /// apply checks the whole id with the same rule and refuses them too; see
    /// `HostileTableTests.topologyIDsThatTeardownRefusesAreRefusedByApplyToo`.
    static let idsTeardownRefuses: [JSONValue] = [
        "5d81934e/../../x", .string(JSONString("5d81934e" + Frames.long("a", 292))), ".5d81934e-4a18", "5d81934e x",
    ]

    static let lanNames: [HostileCase] = [
        .refusedApply(
            "LAN name a path traversal",
            Frames.apply(id: "l1", Frames.topology(lan: 1, name: "../../etc")),
            .invalidTopology,
            id: "l1",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "LAN name with a slash",
            Frames.apply(id: "l2", Frames.topology(lan: 1, name: "lan/01")),
            .invalidTopology,
            id: "l2",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "LAN name with a NUL",
            Frames.apply(id: "l3", Frames.topology(lan: 1, name: "lan\u{0}01")),
            .invalidTopology,
            id: "l3",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "LAN name with a space",
            Frames.apply(id: "l4", Frames.topology(lan: 1, name: "LAN 01")),
            .invalidTopology,
            id: "l4",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "LAN name of 300 characters",
            Frames.apply(id: "l5", Frames.topology(lan: 1, name: longName)),
            .invalidTopology,
            id: "l5",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "LAN name non-ASCII",
            Frames.apply(id: "l6", Frames.topology(lan: 1, name: "LAN-ü1")),
            .invalidTopology,
            id: "l6",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "LAN name starting with a dash",
            Frames.apply(id: "l7", Frames.topology(lan: 1, name: "-LAN-01")),
            .invalidTopology,
            id: "l7",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "LAN name an integer",
            Frames.apply(id: "l8", Frames.topology(lan: 1, name: 1)),
            .invalidTopology,
            id: "l8"
        ),
    ]

    static let deckyNames: [HostileCase] = [
        .refusedApply(
            "decky name a path traversal",
            Frames.apply(id: "k1", Frames.topology(decky: 0, name: "../../../tmp/x")),
            .invalidTopology,
            id: "k1",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "decky name with a slash",
            Frames.apply(id: "k2", Frames.topology(decky: 0, name: "decky/001")),
            .invalidTopology,
            id: "k2",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "decky name with a NUL",
            Frames.apply(id: "k3", Frames.topology(decky: 0, name: "decky\u{0}001")),
            .invalidTopology,
            id: "k3",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "decky name with a space",
            Frames.apply(id: "k4", Frames.topology(decky: 0, name: "decky 001")),
            .invalidTopology,
            id: "k4",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "decky name of 300 characters",
            Frames.apply(id: "k5", Frames.topology(decky: 0, name: longName)),
            .invalidTopology,
            id: "k5",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "decky name of 4 MB",
            Frames.apply(id: "k6", Frames.topology(decky: 0, name: hugeName)),
            .invalidTopology,
            id: "k6",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "decky name non-ASCII",
            Frames.apply(id: "k7", Frames.topology(decky: 0, name: "décky-001")),
            .invalidTopology,
            id: "k7",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "decky name like a flag",
            Frames.apply(id: "k8", Frames.topology(decky: 0, name: "-rf")),
            .invalidTopology,
            id: "k8",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "decky name '..'",
            Frames.apply(id: "k9", Frames.topology(decky: 0, name: "..")),
            .invalidTopology,
            id: "k9",
            issue: "NAME_UNSAFE"
        ),
        .refusedApply(
            "decky_config name a traversal under a safe row name",
            Frames.apply(id: "k10", Frames.topology(decky: 0, name: "../x", configOnly: true)),
            .invalidTopology,
            id: "k10",
            issue: "NAME_UNSAFE"
        ),
    ]

    static let others: [HostileCase] = [
        .refusedApply(
            "a service that is a shell command",
            Frames.apply(id: "o1", Frames.topology(decky: 0, services: ["ssh; rm -rf /"])),
            .invalidTopology,
            id: "o1",
            issue: "UNKNOWN_SERVICE"
        ),
        .refusedApply(
            "LAN names differing only by case, same subnet",
            Frames.apply(
                id: "o2",
                Frames.topology { root in
                    guard case .array(var lans)? = root["lans"], case .object(var lan) = lans[0] else { return }
                    lan["name"] = "lan-00"
                    lan["id"] = "c8256067-0000-0000-0000-000000000000"
                    lan["is_dmz"] = false
                    lans.append(.object(lan))
                    root["lans"] = .array(lans)
                }
            ),
            .invalidTopology,
            id: "o2",
            issue: "SUBNET_OVERLAP"
        ),
        .refusedApply(
            "another topology without supersede",
            Frames.apply(id: "o3", Topologies.renamed(Frames.topology, id: "another-topology")),
            .conflict,
            id: "o3"
        ),
    ]
}

/// Hashes for the hash-mismatch cases.
enum CanonicalHashText {
    static let upper = CanonicalHash.hash(Frames.topology).uppercased()
    static let other = CanonicalHash.hash(Topologies.renamed(Frames.topology, id: "another-topology"))
}
