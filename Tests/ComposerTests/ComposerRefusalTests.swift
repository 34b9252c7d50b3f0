import DecnetJSON
import Testing
import Topology

/// Documents DECNET's validator passes and its composer writes, but which Docker cannot use as meant: we refuse them,
/// each for a reason written down in docs/deviations.md. DECNET's verdict on each input was checked by running its
/// seed validator and composer under CPython 3.11 (validation passes, a document comes back).
@Suite("Composer refusals")
struct ComposerRefusalTests {
    let composer = TopologyComposer(templatesRoot: "/opt/templates")
    let validator = TopologyValidator(knownServices: ServiceCatalog.default.topologyServiceNames)

    /// Sets `value` at the path of keys/indices inside a JSON value.
    static func setting(_ root: JSONValue, _ path: [JSONValue], to value: JSONValue) -> JSONValue {
        guard let head = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch (root, head) {
        case (.object(var o), .string(let key)):
            o[key] = setting(o[key] ?? .null, rest, to: value)
            return .object(o)
        case (.array(var a), .integer):
            guard let i = head.intValue else { return root }
            a[i] = setting(a[i], rest, to: value)
            return .array(a)
        default:
            return root
        }
    }

    static let valid: JSONValue = [
        "topology": ["id": "0123456789abcdef"],
        "lans": [["id": "l", "name": "dmz", "subnet": "10.0.0.0/24", "is_dmz": true]],
        "deckies": [
            [
                "uuid": "u", "name": "w", "services": ["http"],
                "decky_config": ["name": "w", "ips_by_lan": ["dmz": "10.0.0.2"], "service_config": ["http": [:]]],
            ]
        ],
        "edges": [["decky_uuid": "u", "lan_id": "l"]],
    ]

    /// docs/deviations.md#boolean-address, #non-string-names, #files-relative, #files-volume-characters.
    @Test(
        arguments: [
            // CPython takes True as 0.0.0.1 and False as 0.0.0.0, so these addresses lie inside these subnets.
            (
                "boolean-address", ["deckies", 0, "decky_config", "ips_by_lan", "dmz"], true,
                "/deckies/0/decky_config/ips_by_lan/dmz", "0.0.0.0/30", "0.0.0.2"
            ),
            (
                "boolean-address", ["deckies", 0, "decky_config", "ips_by_lan", "dmz"], false,
                "/deckies/0/decky_config/ips_by_lan/dmz", "0.0.0.0/30", "0.0.0.2"
            ),
            ("boolean-address", ["lans", 0, "subnet"], false, "/lans/0/subnet", "0.0.0.0/30", "0.0.0.0"),
            ("boolean-address", ["lans", 0, "subnet"], true, "/lans/0/subnet", "0.0.0.0/30", "0.0.0.1"),
            (
                "non-string-names", ["deckies", 0, "decky_config", "name"], 5, "/deckies/0/decky_config/name",
                "10.0.0.0/24", "10.0.0.2"
            ),
            (
                "non-string-names", ["deckies", 0, "decky_config", "name"], true, "/deckies/0/decky_config/name",
                "10.0.0.0/24", "10.0.0.2"
            ),
            ("non-string-names", ["topology", "id"], ["x"], "/topology/id", "10.0.0.0/24", "10.0.0.2"),
            ("non-string-names", ["topology", "id"], ["a", "b"], "/topology/id", "10.0.0.0/24", "10.0.0.2"),
            (
                "files-relative", ["deckies", 0, "decky_config", "service_config", "http", "files"], "site/html",
                "/deckies/0/decky_config/service_config/http/files", "10.0.0.0/24", "10.0.0.2"
            ),
            (
                "files-relative", ["deckies", 0, "decky_config", "service_config", "http", "files"], "./x",
                "/deckies/0/decky_config/service_config/http/files", "10.0.0.0/24", "10.0.0.2"
            ),
            (
                "files-volume-characters", ["deckies", 0, "decky_config", "service_config", "http", "files"],
                "/srv/a:b",
                "/deckies/0/decky_config/service_config/http/files", "10.0.0.0/24", "10.0.0.2"
            ),
            (
                "files-volume-characters", ["deckies", 0, "decky_config", "service_config", "http", "files"],
                "/srv/a\tb",
                "/deckies/0/decky_config/service_config/http/files", "10.0.0.0/24", "10.0.0.2"
            ),
            (
                "files-volume-characters", ["deckies", 0, "decky_config", "service_config", "http", "files"],
                "/srv/\u{7F}",
                "/deckies/0/decky_config/service_config/http/files", "10.0.0.0/24", "10.0.0.2"
            ),
        ] as [(String, [JSONValue], JSONValue, String, String, String)]
    )
    func refusedThoughDECNETComposes(
        _ deviation: String,
        _ path: [JSONValue],
        _ value: JSONValue,
        _ pointer: String,
        _ subnet: String,
        _ ip: String
    ) {
        var h = Self.setting(Self.valid, ["lans", 0, "subnet"], to: JSONValue(subnet))
        h = Self.setting(h, ["deckies", 0, "decky_config", "ips_by_lan", "dmz"], to: JSONValue(ip))
        h = Self.setting(h, path, to: value)
        #expect(!validator.validate(h).hasErrors, "DECNET's rules pass (\(deviation))")
        #expect { try composer.compose(h) } throws: { ($0 as? ComposeError)?.path == pointer }
    }

    /// docs/deviations.md#files-symlinks: not a refusal; the path is normalised without touching the file system.
    @Test func filesNormalisedLexically() throws {
        let h = Self.setting(
            Self.valid,
            ["deckies", 0, "decky_config", "service_config", "http", "files"],
            to: "/proc/self/../1/./cwd/"
        )
        let plan = try composer.compose(h)
        #expect(plan.document["services"]?["w-http"]?["volumes"] == ["/proc/1/cwd:/opt/html_files:ro"])
    }

    /// The integers CPython's `ipaddress` takes are kept, as DECNET keeps them.
    @Test func integerAddressesStillCompose() throws {
        let h = Self.setting(Self.valid, ["deckies", 0, "decky_config", "ips_by_lan", "dmz"], to: 167_772_162)
        let plan = try composer.compose(h)
        #expect(
            plan.document["services"]?["w"]?["networks"] == ["decnet_t_01234567_dmz": ["ipv4_address": 167_772_162]]
        )
    }
}
