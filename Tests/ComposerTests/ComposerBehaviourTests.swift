import DecnetJSON
import Testing
import Topology

@Suite("Composer behaviour")
struct ComposerBehaviourTests {
    let composer = TopologyComposer(templatesRoot: "/opt/templates")

    @Test func sshKnobsDefaultsAndOrder() throws {
        let plain = try composer.compose(TestTopology.hydrated(deckies: [.init(name: "gw", services: ["ssh"])]))
        #expect(
            TestTopology.environment(plain, "gw-ssh") == [
                "SSH_ROOT_PASSWORD": "admin", "NODE_NAME": "gw", "HOSTNAME": "gw",
            ]
        )
        let set = try composer.compose(
            TestTopology.hydrated(deckies: [
                .init(
                    name: "gw",
                    services: ["ssh"],
                    serviceConfig: [
                        "ssh": ["hostname": "mail-01", "password": "megapassword", "future_flag": true]
                    ]
                )
            ])
        )
        let env = try #require(TestTopology.environment(set, "gw-ssh"))
        #expect(env.keys.map(\.value) == ["SSH_ROOT_PASSWORD", "NODE_NAME", "SSH_HOSTNAME", "HOSTNAME"])
        #expect(env["SSH_ROOT_PASSWORD"] == "megapassword")
        #expect(env["SSH_HOSTNAME"] == "mail-01")
        #expect(
            set.document["services"]?["gw-ssh"]?["volumes"] == [
                "/var/lib/decnet/artifacts/gw/ssh:/var/lib/systemd/coredump:rw"
            ]
        )
    }

    @Test func telnetHasNoNodeName() throws {
        let plan = try composer.compose(
            TestTopology.hydrated(deckies: [
                .init(name: "t", services: ["telnet"], serviceConfig: ["telnet": ["hostname": "h"]])
            ])
        )
        let env = try #require(TestTopology.environment(plan, "t-telnet"))
        #expect(env.keys.map(\.value) == ["TELNET_ROOT_PASSWORD", "TELNET_HOSTNAME", "HOSTNAME"])
        #expect(plan.document["services"]?["t-telnet"]?["volumes"] == nil)
    }

    /// Knobs in plugin order whatever the service_config order; `str()` and `json.dumps` conversions.
    @Test func httpKnobConversions() throws {
        let cfg: JSONValue = [
            "files": "/srv//www/./site/../html/",
            "custom_body": "<h1>hi</h1>",
            "extra_headers": ["X-Powered-By": "PHP/7.4.3", "X-Name": "d\u{E9}cky", "X-List": [1, 2.5, true, nil]],
            "response_code": 403,
            "server_header": "Apache/2.4.41 (Ubuntu)",
            "fake_app": nil,
        ]
        let plan = try composer.compose(
            TestTopology.hydrated(deckies: [
                .init(name: "web", services: ["http"], serviceConfig: ["http": cfg])
            ])
        )
        let env = try #require(TestTopology.environment(plan, "web-http"))
        #expect(
            env.keys.map(\.value) == [
                "NODE_NAME", "SERVER_HEADER", "RESPONSE_CODE", "FAKE_APP", "EXTRA_HEADERS", "CUSTOM_BODY", "FILES_DIR",
                "HOSTNAME",
            ]
        )
        #expect(env["RESPONSE_CODE"] == "403")
        #expect(env["FAKE_APP"] == .null)
        #expect(
            env["EXTRA_HEADERS"]
                == #"{"X-Powered-By": "PHP/7.4.3", "X-Name": "d\u00e9cky", "X-List": [1, 2.5, true, null]}"#
        )
        #expect(env["FILES_DIR"] == "/opt/html_files")
        let entry = try #require(plan.document["services"]?["web-http"]?.objectValue)
        #expect(entry["volumes"] == ["/srv/www/html:/opt/html_files:ro"])
        #expect(
            entry.keys.map(\.value) == [
                "build", "container_name", "restart", "environment", "volumes", "network_mode", "depends_on", "logging",
                "labels",
            ]
        )
        let container = try #require(plan.container(serviceKey: "web-http"))
        #expect(container.environment.first { $0.name == "FAKE_APP" }?.value == nil)
        #expect(container.environment.first { $0.name == "RESPONSE_CODE" }?.value == "403")
        #expect(container.volumes == ["/srv/www/html:/opt/html_files:ro"])
    }

    @Test(
        arguments: [
            (JSONValue(403), "403"), (true, "True"), (false, "False"), (nil, "None"), (1.5, "1.5"), (1e16, "1e+16"),
            ("x", "x"), (["a", 1, nil], "['a', 1, None]"), (["k": "it's"], #"{'k': "it's"}"#),
        ] as [(JSONValue, String)]
    )
    func responseCodeUsesPythonStr(_ value: JSONValue, _ text: String) throws {
        let plan = try composer.compose(
            TestTopology.hydrated(deckies: [
                .init(name: "w", services: ["https"], serviceConfig: ["https": ["response_code": value]])
            ])
        )
        #expect(TestTopology.environment(plan, "w-https")?["RESPONSE_CODE"] == JSONValue(text))
    }

    @Test func extraHeadersStringAndListPassThrough() throws {
        let plan = try composer.compose(
            TestTopology.hydrated(deckies: [
                .init(name: "a", services: ["http"], serviceConfig: ["http": ["extra_headers": "X-A: 1"]]),
                .init(
                    name: "b",
                    services: ["http"],
                    ips: [("dmz", "10.0.0.3")],
                    serviceConfig: ["http": ["extra_headers": ["X-A", 5]]]
                ),
            ])
        )
        #expect(TestTopology.environment(plan, "a-http")?["EXTRA_HEADERS"] == "X-A: 1")
        #expect(TestTopology.environment(plan, "b-http")?["EXTRA_HEADERS"] == ["X-A", 5])
        // Docker gets text for what compose would refuse.
        #expect(
            plan.container(serviceKey: "b-http")?.environment.first { $0.name == "EXTRA_HEADERS" }?.value
                == #"["X-A", 5]"#
        )
    }

    @Test func httpsTLSKnobsFollowFiles() throws {
        let plan = try composer.compose(
            TestTopology.hydrated(deckies: [
                .init(
                    name: "s",
                    services: ["https"],
                    serviceConfig: [
                        "https": ["tls_cn": "mail.corp.local", "tls_key": "K", "tls_cert": "C", "files": "/srv/x"]
                    ]
                )
            ])
        )
        let env = try #require(TestTopology.environment(plan, "s-https"))
        #expect(env.keys.map(\.value) == ["NODE_NAME", "FILES_DIR", "TLS_CERT", "TLS_KEY", "TLS_CN", "HOSTNAME"])
    }

    @Test(arguments: ["relative/dir", "", ".", "/a:b", "/a\nb"])
    func filesMustBeAnAbsoluteVolumePath(_ path: String) throws {
        let h = TestTopology.hydrated(deckies: [
            .init(name: "w", services: ["http"], serviceConfig: ["http": ["files": JSONValue(path)]])
        ])
        #expect { try composer.compose(h) } throws: { error in
            let e = error as? ComposeError
            return e?.code == .invalidFilesPath && e?.path == "/deckies/0/decky_config/service_config/http/files"
        }
    }

    @Test func filesRootAndDotDotAboveRoot() throws {
        let plan = try composer.compose(
            TestTopology.hydrated(deckies: [
                .init(name: "w", services: ["http"], serviceConfig: ["http": ["files": "/../srv/.."]])
            ])
        )
        #expect(plan.document["services"]?["w-http"]?["volumes"] == ["/:/opt/html_files:ro"])
    }

    @Test(arguments: [JSONValue.null, [], [:], "", 0, false])
    func falsyServiceConfigMeansDefaults(_ cfg: JSONValue) throws {
        let plan = try composer.compose(
            TestTopology.hydrated(deckies: [
                .init(name: "gw", services: ["ssh"], serviceConfig: ["ssh": cfg])
            ])
        )
        #expect(TestTopology.environment(plan, "gw-ssh")?["SSH_ROOT_PASSWORD"] == "admin")
    }

    @Test func nonObjectServiceConfigIsMalformed() throws {
        let h = TestTopology.hydrated(deckies: [
            .init(name: "gw", services: ["ssh"], serviceConfig: ["ssh": ["password"]])
        ])
        #expect { try composer.compose(h) } throws: {
            ($0 as? ComposeError)?.code == .malformed
                && ($0 as? ComposeError)?.path == "/deckies/0/decky_config/service_config/ssh"
        }
    }

    @Test func unknownLANAndUnknownServiceAreComposeErrors() throws {
        let lan = TestTopology.hydrated(deckies: [.init(name: "gw", services: ["ssh"], ips: [("nowhere", "10.9.0.2")])])
        #expect { try composer.compose(lan) } throws: {
            let e = $0 as? ComposeError
            return e?.code == .unknownLAN && e?.path == "/deckies/0/decky_config/ips_by_lan/nowhere"
                && e?.message == "decky 'gw' references unknown LAN 'nowhere'"
        }
        // A LAN name matches exactly: case differs ⇒ unknown, although both map to the same network name.
        let cased = TestTopology.hydrated(deckies: [.init(name: "gw", services: [], ips: [("DMZ", "10.0.0.2")])])
        #expect { try composer.compose(cased) } throws: { ($0 as? ComposeError)?.code == .unknownLAN }
        for forwards in [JSONValue(true), false] {
            let svc = TestTopology.hydrated(deckies: [.init(name: "gw", services: ["ssh", "nope"], forwards: forwards)])
            #expect { try composer.compose(svc) } throws: {
                ($0 as? ComposeError)?.code == .unknownService && ($0 as? ComposeError)?.path == "/deckies/0/services/1"
            }
        }
    }

    @Test(
        arguments: [
            ("/topology/id", ["topology": ["id": 5], "lans": [], "deckies": []]),
            ("/lans", ["topology": ["id": "x"], "deckies": []]),
            ("/deckies", ["topology": ["id": "x"], "lans": [], "deckies": 5]),
            ("/deckies/0", ["topology": ["id": "x"], "lans": [], "deckies": "d"]),
            ("/lans/0/subnet", ["topology": ["id": "x"], "lans": [["name": "a", "subnet": nil]], "deckies": []]),
            ("/deckies/0/decky_config", ["topology": ["id": "x"], "lans": [], "deckies": [["services": []]]]),
            (
                "/deckies/0/decky_config/ips_by_lan",
                ["topology": ["id": "x"], "lans": [], "deckies": [["services": [], "decky_config": ["name": "a"]]]]
            ),
            (
                "/deckies/0/services",
                [
                    "topology": ["id": "x"], "lans": [],
                    "deckies": [["services": nil, "decky_config": ["name": "a", "ips_by_lan": [:]]]],
                ]
            ),
        ] as [(String, JSONValue)]
    )
    func malformedShapesNameTheirPath(_ path: String, _ h: JSONValue) throws {
        #expect { try composer.compose(h) } throws: {
            ($0 as? ComposeError)?.code == .malformed && ($0 as? ComposeError)?.path == path
        }
    }

    @Test func baseImageOverrideReachesBasesAndBuildArgsButNotConpot() throws {
        let mirror = TopologyComposer(templatesRoot: "/t/", baseImage: "mirror.local/debian:bookworm-slim")
        let plan = try mirror.compose(
            TestTopology.hydrated(deckies: [.init(name: "plc", services: ["conpot", "ftp"])])
        )
        let services = try #require(plan.document["services"])
        #expect(services["plc"]?["image"] == "mirror.local/debian:bookworm-slim")
        #expect(
            services["plc-ftp"]?["build"] == [
                "context": "/t/ftp", "args": ["BASE_IMAGE": "mirror.local/debian:bookworm-slim"],
            ]
        )
        #expect(services["plc-conpot"]?["build"]?["args"] == ["BASE_IMAGE": "honeynet/conpot:latest"])
        #expect(plan.container(serviceKey: "plc")?.image == .image("mirror.local/debian:bookworm-slim"))
    }

    /// CPython's `ipaddress` (so the validator) takes integers as addresses and /32 networks; the document keeps
    /// them as given, the typed plan gets dotted text.
    @Test func integerAddressesBecomeDottedInThePlan() throws {
        var h = TestTopology.hydrated(deckies: [.init(name: "a", services: [], ips: [("dmz", 167_772_162)])])
        if case .object(var root) = h, case .array(var lans)? = root["lans"], case .object(var lan) = lans[0] {
            lan["subnet"] = 167_772_160
            lans[0] = .object(lan)
            root["lans"] = .array(lans)
            h = .object(root)
        }
        let plan = try composer.compose(h)
        #expect(plan.bridges.map(\.subnet) == ["10.0.0.0/32"])
        #expect(
            plan.container(serviceKey: "a")?.network
                == .bridges([
                    .init(network: "decnet_t_01234567_dmz", lanName: "dmz", ipv4Address: "10.0.0.2")
                ])
        )
        #expect(
            plan.document["services"]?["a"]?["networks"] == ["decnet_t_01234567_dmz": ["ipv4_address": 167_772_162]]
        )
    }

    @Test func networkNamesLowerCaseAsPython() throws {
        let plan = try composer.compose(
            TestTopology.hydrated(
                id: "\u{130}d-\u{1F600}xyz-long",
                lans: [("ΟΔΟΣ", "10.0.0.0/24", true), ("ΣΑ-\u{130}", "10.0.1.0/24", false)],
                deckies: [.init(name: "Δ", services: [], ips: [("ΟΔΟΣ", "10.0.0.2"), ("ΣΑ-\u{130}", 167_772_418)])]
            )
        )
        #expect(plan.prefix == "\u{130}d-\u{1F600}xyz-")
        #expect(
            plan.bridges.map(\.name) == [
                "decnet_t_\u{130}d-\u{1F600}xyz-_οδος", "decnet_t_\u{130}d-\u{1F600}xyz-_σα-i\u{307}",
            ]
        )
        #expect(plan.bridges.map(\.internal) == [false, true])
        // Descending code points: Σ (U+03A3) sorts after Ο (U+039F), so the second LAN goes first.
        #expect(plan.teardownOrder == plan.bridges.reversed().map(\.name))
        guard case .bridges(let nets)? = plan.container(serviceKey: "Δ")?.network else {
            Issue.record("base has no bridges")
            return
        }
        #expect(nets.map(\.ipv4Address) == ["10.0.0.2", "10.0.1.2"])
    }
}
