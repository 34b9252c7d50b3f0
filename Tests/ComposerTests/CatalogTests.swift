import DecnetJSON
import Foundation
import Testing

@testable import Topology

@Suite("Service catalog")
struct CatalogTests {
    static let fileURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("catalog/services.json")

    static let seedServices: [String] = [
        "conpot", "docker_api", "elasticsearch", "ftp", "http", "https", "imap", "k8s", "ldap", "llmnr", "mongodb",
        "mqtt", "mssql", "mysql", "pop3", "postgres", "rdp", "redis", "sip", "smb", "smtp", "smtp_relay", "snmp", "ssh",
        "telnet", "tftp", "vnc",
    ]

    @Test func compiledInCatalogEqualsFileByteForByte() throws {
        let file = try Data(contentsOf: Self.fileURL)
        #expect(Array(file) == Array(DefaultCatalog.json.utf8))
    }

    @Test func defaultCatalogHasTheSeedServicesAndTheSnifferSingleton() throws {
        let catalog = ServiceCatalog.default
        #expect(catalog.topologyServiceNames == Set(Self.seedServices.map { JSONString($0) }))
        #expect(catalog.services.count == 28)
        let sniffer = try #require(catalog.service(named: "sniffer"))
        #expect(sniffer.fleetSingleton)
        #expect(sniffer.capAdd == ["NET_RAW", "NET_ADMIN"])
        #expect(catalog.service(named: "docker_api")?.containerSuffix == "docker-api")
        #expect(catalog.service(named: "smtp_relay")?.source == .build(template: "smtp", args: []))
        #expect(catalog.service(named: "llmnr")?.tcpPorts == [5355, 5353])
        #expect(catalog.services.allSatisfy { $0.udpPorts.isEmpty })
    }

    @Test func jsonValueRoundTripsAndMatchesTheFile() throws {
        let parsed = try JSONParser.parse([UInt8](Data(contentsOf: Self.fileURL)))
        #expect(ServiceCatalog.default.jsonValue == parsed)
        #expect(try ServiceCatalog(json: ServiceCatalog.default.jsonValue) == ServiceCatalog.default)
    }

    @Test func loadsAnOperatorCatalogFromAFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.json")
        try Data(
            #"{"catalog_version": 1, "services": {"web": {"image": "nginx:1", "container_suffix": "web", "tcp_ports": [8080]}}}"#
                .utf8
        ).write(to: good)
        let catalog = try ServiceCatalog.load(contentsOf: good.path)
        #expect(catalog.topologyServiceNames == ["web"])
        #expect(catalog.service(named: "web")?.source == .image("nginx:1"))

        let bad = dir.appendingPathComponent("bad.json")
        try Data("{\"catalog_version\": 1,".utf8).write(to: bad)
        #expect { try ServiceCatalog.load(contentsOf: bad.path) } throws: {
            ($0 as? CatalogError)?.code == .invalidJSON
        }
        #expect { try ServiceCatalog.load(contentsOf: dir.appendingPathComponent("missing.json").path) } throws: {
            ($0 as? CatalogError)?.code == .unreadable
        }
    }

    struct Broken: Sendable, CustomTestStringConvertible {
        var text: String
        var code: CatalogError.Code
        var path: String
        var testDescription: String { "\(code) \(path)" }
    }

    static let svc = #""container_suffix": "x", "build": {"template": "x"}"#
    static let broken: [Broken] = [
        .init(text: #"[]"#, code: .invalidValue, path: ""),
        .init(text: #"{"services": {}}"#, code: .unsupportedVersion, path: "/catalog_version"),
        .init(text: #"{"catalog_version": 2, "services": {}}"#, code: .unsupportedVersion, path: "/catalog_version"),
        .init(text: #"{"catalog_version": 1.0, "services": {}}"#, code: .unsupportedVersion, path: "/catalog_version"),
        .init(text: #"{"catalog_version": 1}"#, code: .missingMember, path: "/services"),
        .init(text: #"{"catalog_version": 1, "services": {}, "extra": 1}"#, code: .unknownMember, path: "/extra"),
        .init(text: #"{"catalog_version": 1, "services": []}"#, code: .invalidValue, path: "/services"),
        .init(text: #"{"catalog_version": 1, "services": {"": {\#(svc)}}}"#, code: .invalidValue, path: "/services/"),
        .init(
            text: #"{"catalog_version": 1, "services": {"a/b": {\#(svc), "port": 1}}}"#,
            code: .unknownMember,
            path: "/services/a~1b/port"
        ),
        .init(
            text: #"{"catalog_version": 1, "services": {"s": {\#(svc), "tcp_ports": "22"}}}"#,
            code: .invalidValue,
            path: "/services/s/tcp_ports"
        ),
        .init(
            text: #"{"catalog_version": 1, "services": {"s": {\#(svc), "tcp_ports": [22, 0]}}}"#,
            code: .invalidValue,
            path: "/services/s/tcp_ports/1"
        ),
        .init(
            text: #"{"catalog_version": 1, "services": {"s": {\#(svc), "udp_ports": [65536]}}}"#,
            code: .invalidValue,
            path: "/services/s/udp_ports/0"
        ),
        .init(
            text: #"{"catalog_version": 1, "services": {"s": {\#(svc), "image": "i"}}}"#,
            code: .invalidValue,
            path: "/services/s/image"
        ),
        .init(
            text: #"{"catalog_version": 1, "services": {"s": {"container_suffix": "x"}}}"#,
            code: .missingMember,
            path: "/services/s"
        ),
        .init(
            text: #"{"catalog_version": 1, "services": {"s": {"build": {"template": "x"}}}}"#,
            code: .missingMember,
            path: "/services/s/container_suffix"
        ),
        .init(
            text:
                #"{"catalog_version": 1, "services": {"s": {"container_suffix": "x", "build": {"template": "../x"}}}}"#,
            code: .invalidValue,
            path: "/services/s/build/template"
        ),
        .init(
            text:
                #"{"catalog_version": 1, "services": {"s": {"container_suffix": "x", "build": {"template": "x", "args": {"A": 1}}}}}"#,
            code: .invalidValue,
            path: "/services/s/build/args/A"
        ),
        .init(
            text: #"{"catalog_version": 1, "services": {"s": {\#(svc), "fleet_singleton": "yes"}}}"#,
            code: .invalidValue,
            path: "/services/s/fleet_singleton"
        ),
        .init(
            text: #"{"catalog_version": 1, "services": {"s": {\#(svc), "environment": [{"name": "A"}]}}}"#,
            code: .missingMember,
            path: "/services/s/environment/0"
        ),
        .init(
            text:
                #"{"catalog_version": 1, "services": {"s": {\#(svc), "environment": [{"name": "A", "value": "v", "knob": "k"}]}}}"#,
            code: .invalidValue,
            path: "/services/s/environment/0/knob"
        ),
        .init(
            text:
                #"{"catalog_version": 1, "services": {"s": {\#(svc), "environment": [{"name": "A", "value": "v", "default": "d"}]}}}"#,
            code: .unknownMember,
            path: "/services/s/environment/0/default"
        ),
        .init(
            text: #"{"catalog_version": 1, "services": {"s": {\#(svc), "environment": [{"name": "A", "value": 5}]}}}"#,
            code: .invalidValue,
            path: "/services/s/environment/0/value"
        ),
        .init(
            text:
                #"{"catalog_version": 1, "services": {"s": {\#(svc), "environment": [{"name": "A", "knob": "k", "convert": "int"}]}}}"#,
            code: .invalidValue,
            path: "/services/s/environment/0/convert"
        ),
        .init(
            text:
                #"{"catalog_version": 1, "services": {"s": {\#(svc), "environment": [{"name": "A", "knob": "k", "convert": "mount_dir"}]}}}"#,
            code: .missingMember,
            path: "/services/s/environment/0/mount"
        ),
        .init(
            text:
                #"{"catalog_version": 1, "services": {"s": {\#(svc), "environment": [{"name": "A", "knob": "k", "convert": "mount_dir", "mount": "rel"}]}}}"#,
            code: .invalidValue,
            path: "/services/s/environment/0/mount"
        ),
        .init(
            text:
                #"{"catalog_version": 1, "services": {"s": {\#(svc), "environment": [{"name": "A", "knob": "k", "mount": "/m"}]}}}"#,
            code: .unknownMember,
            path: "/services/s/environment/0/mount"
        ),
        .init(
            text:
                #"{"catalog_version": 1, "services": {"s": {\#(svc), "environment": [{"name": "A", "value": "1"}, {"name": "A", "knob": "k"}]}}}"#,
            code: .invalidValue,
            path: "/services/s/environment/1/name"
        ),
        .init(
            text:
                #"{"catalog_version": 1, "services": {"s": {\#(svc), "environment": [{"name": "A=B", "value": "1"}]}}}"#,
            code: .invalidValue,
            path: "/services/s/environment/0/name"
        ),
        .init(
            text: #"{"catalog_version": 1, "services": {"s": {\#(svc), "cap_add": ["NET_ADMIN", ""]}}}"#,
            code: .invalidValue,
            path: "/services/s/cap_add/1"
        ),
        .init(
            text: #"{"catalog_version": 1, "services": {"s": {\#(svc), "labels": {"k": true}}}}"#,
            code: .invalidValue,
            path: "/services/s/labels/k"
        ),
    ]

    @Test(arguments: broken)
    func strictValidationNamesThePath(_ b: Broken) throws {
        let json = try JSONParser.parse(b.text)
        #expect(throws: CatalogError.self) { try ServiceCatalog(json: json) }
        do {
            _ = try ServiceCatalog(json: json)
        } catch {
            #expect(error.code == b.code)
            #expect(error.path == b.path)
        }
    }

    @Test func optionalMembersDefaultToEmpty() throws {
        let catalog = try ServiceCatalog(
            json: JSONParser.parse(
                #"{"catalog_version": 1, "services": {"s": {"container_suffix": "x", "image": "i"}}}"#
            )
        )
        let s = try #require(catalog.service(named: "s"))
        #expect(s.tcpPorts.isEmpty && s.udpPorts.isEmpty && s.capAdd.isEmpty && s.environment.isEmpty)
        #expect(s.volumes.isEmpty && s.labels.isEmpty && s.command == nil && !s.fleetSingleton)
    }
}
