import DecnetJSON
import Testing
import Topology

/// Shapes DECNET's validator lets through and its composer still composes, because Python answers the plugins'
/// questions by the value's own type (see `ServiceKnobs`). Expected results come from running DECNET's seed composer
/// under CPython 3.11 on the same inputs; `nil` marks the inputs where it raises, which we refuse too.
@Suite("Composer: Python shapes")
struct ComposerPythonShapesTests {
    let composer = TopologyComposer(templatesRoot: "/opt/templates")

    static func hydrated(services: JSONValue, serviceConfig: JSONValue? = nil, forwards: Bool = false) -> JSONValue {
        var cfg: JSONObject = ["name": "w", "ips_by_lan": ["dmz": "10.0.0.2"], "forwards_l3": .bool(forwards)]
        if let serviceConfig { cfg["service_config"] = serviceConfig }
        return [
            "topology": ["id": "0123456789abcdef"],
            "lans": [["id": "l", "name": "dmz", "subnet": "10.0.0.0/24", "is_dmz": true]],
            "deckies": [["uuid": "u", "name": "w", "services": services, "decky_config": .object(cfg)]],
            "edges": [["decky_uuid": "u", "lan_id": "l"]],
        ]
    }

    /// One service's config that is not an object: `in` on a string is a substring test, on a list an element
    /// test, on a number or `true` a TypeError; `.get` (ssh, telnet) works on objects only; falsy means `{}`.
    @Test(
        arguments: [
            ("ftp", 5, ["NODE_NAME": "w", "HOSTNAME": "w"]), ("ftp", "abc", ["NODE_NAME": "w", "HOSTNAME": "w"]),
            ("ftp", [1], ["NODE_NAME": "w", "HOSTNAME": "w"]), ("ftp", true, ["NODE_NAME": "w", "HOSTNAME": "w"]),
            ("ftp", 1.5, ["NODE_NAME": "w", "HOSTNAME": "w"]),
            ("conpot", "x", ["CONPOT_TEMPLATE": "default", "NODE_NAME": "w", "HOSTNAME": "w"]),
            ("http", "abc", ["NODE_NAME": "w", "HOSTNAME": "w"]), ("http", "xfilesx", nil),
            ("http", "server_header", nil), ("http", "custom_bodyguard", nil),
            ("http", ["x", 1], ["NODE_NAME": "w", "HOSTNAME": "w"]), ("http", ["fake_app"], nil),
            ("http", ["response_code", "x"], nil), ("http", 5, nil), ("http", true, nil),
            ("http", 0, ["NODE_NAME": "w", "HOSTNAME": "w"]), ("http", "", ["NODE_NAME": "w", "HOSTNAME": "w"]),
            ("http", [], ["NODE_NAME": "w", "HOSTNAME": "w"]), ("http", 0.0, ["NODE_NAME": "w", "HOSTNAME": "w"]),
            ("http", false, ["NODE_NAME": "w", "HOSTNAME": "w"]), ("http", nil, ["NODE_NAME": "w", "HOSTNAME": "w"]),
            ("http", [:], ["NODE_NAME": "w", "HOSTNAME": "w"]),
            ("https", "tls", ["NODE_NAME": "w", "HOSTNAME": "w"]), ("https", "tls_key", nil),
            ("https", ["tls_cn"], nil),
            ("ssh", "abc", nil), ("ssh", 5, nil), ("ssh", ["password"], nil),
            ("ssh", [], ["SSH_ROOT_PASSWORD": "admin", "NODE_NAME": "w", "HOSTNAME": "w"]),
            ("ssh", "", ["SSH_ROOT_PASSWORD": "admin", "NODE_NAME": "w", "HOSTNAME": "w"]),
            ("telnet", ["hostname"], nil), ("telnet", 0, ["TELNET_ROOT_PASSWORD": "admin", "HOSTNAME": "w"]),
            ("smtp", "ban", ["NODE_NAME": "w", "HOSTNAME": "w"]), ("smtp", "xmtax", nil),
            ("smtp_relay", "banner", nil), ("mysql", "versio", ["NODE_NAME": "w", "HOSTNAME": "w"]),
            ("mysql", "version", nil), ("redis", "os_string", nil),
            ("redis", "os_strin", ["NODE_NAME": "w", "HOSTNAME": "w"]),
            ("redis", [["version"]], ["NODE_NAME": "w", "HOSTNAME": "w"]),
        ] as [(String, JSONValue, JSONValue?)]
    )
    func serviceConfigThatIsNotAnObject(_ service: String, _ config: JSONValue, _ environment: JSONValue?) throws {
        let h = Self.hydrated(
            services: [JSONValue(service)],
            serviceConfig: .object(JSONObject([(JSONString(service), config)]))
        )
        guard let environment else {
            #expect { try composer.compose(h) } throws: {
                ($0 as? ComposeError)?.code == .malformed
                    && ($0 as? ComposeError)?.path == "/deckies/0/decky_config/service_config/\(service)"
            }
            return
        }
        let plan = try composer.compose(h)
        #expect(plan.document["services"]?["w-\(service)"]?["environment"] == environment)
    }

    /// `service_config` itself is only read (with `.get`) when a service is composed.
    @Test func serviceConfigListIsReadOnlyForAComposedService() throws {
        let none = try composer.compose(Self.hydrated(services: [], serviceConfig: ["ftp"]))
        #expect(none.document["services"]?.objectValue?.keys.map(\.value) == ["w"])
        #expect { try composer.compose(Self.hydrated(services: ["ftp"], serviceConfig: ["ftp"])) } throws: {
            ($0 as? ComposeError)?.path == "/deckies/0/decky_config/service_config"
        }
    }

    /// `services` as an object is iterated by its keys, as a string by its characters.
    @Test func servicesIteratedAsPythonDoes() throws {
        let keyed = try composer.compose(Self.hydrated(services: ["ftp": 1, "http": nil], forwards: true))
        let services = try #require(keyed.document["services"]?.objectValue)
        #expect(services.keys.map(\.value) == ["w", "w-ftp", "w-http"])
        #expect(services["w"]?["ports"] == ["21:21", "80:80", "443:443"])
        #expect(keyed.containers.map(\.serviceKey) == ["w", "w-ftp", "w-http"])
        for empty: JSONValue in ["", [:]] {
            let plan = try composer.compose(Self.hydrated(services: empty, forwards: true))
            #expect(plan.document["services"]?.objectValue?.keys.map(\.value) == ["w"])
            #expect(plan.document["services"]?["w"]?["ports"] == nil)
        }
        // Each character is looked up as a service name, which DECNET's registry refuses.
        #expect { try composer.compose(Self.hydrated(services: "ftp")) } throws: {
            ($0 as? ComposeError)?.code == .unknownService && ($0 as? ComposeError)?.path == "/deckies/0/services/0"
        }
    }

    /// `deckies` that iterate to nothing compose to bases-free documents; anything else fails as Python's indexing
    /// of a string does.
    @Test(arguments: ["", [:]] as [JSONValue])
    func emptyDeckiesOfAnyIterableKind(_ deckies: JSONValue) throws {
        guard case .object(var root) = Self.hydrated(services: []) else { return }
        root["deckies"] = deckies
        let plan = try composer.compose(.object(root))
        #expect(plan.document["services"] == [:])
        #expect(plan.document["networks"]?.objectValue?.keys.map(\.value) == ["decnet_t_01234567_dmz"])
        root["deckies"] = ["w": [:]]
        #expect { try composer.compose(.object(root)) } throws: { ($0 as? ComposeError)?.path == "/deckies/0" }
    }
}
