import DecnetJSON
import TestSupport
import Testing
import Topology

@Suite("Compose vectors")
struct ComposerVectorTests {
    static let cases = VectorCase.load("compose.json")
    static let composer = TopologyComposer(templatesRoot: "__DECNET_TEMPLATES__")

    @Test func vectorsLoaded() {
        #expect(Self.cases.count == 12)
    }

    /// The document equals DECNET's once our labels (the one allowed addition) are taken out.
    @Test(arguments: cases)
    func documentMatchesWithoutLabels(_ c: VectorCase) throws {
        let plan = try Self.composer.compose(try #require(c["input"]))
        let expected = try #require(c["compose"])
        let stripped = Self.removingLabels(plan.document)
        #expect(stripped == expected)
        // Member order matters for the written file: compare the ordered text too.
        #expect(PythonJSONEncoder().string(stripped) == PythonJSONEncoder().string(expected))
    }

    @Test(arguments: cases)
    func labelsMarkBasesAndServices(_ c: VectorCase) throws {
        let input = try #require(c["input"])
        let plan = try Self.composer.compose(input)
        let id = try #require(input["topology"]?["id"])
        let services = try #require(plan.document["services"]?.objectValue)
        for container in plan.containers {
            let entry = try #require(services[container.serviceKey]?.objectValue)
            let labels = try #require(entry["labels"]?.objectValue)
            // Labels come last for a service, right after logging for a base.
            let keys = entry.keys.map(\.value)
            switch container.role {
            case .base:
                #expect(
                    labels == [
                        "decnet.topology.id": id, "decnet.topology.decky": JSONValue(container.decky),
                        "decnet.topology.role": "base",
                    ]
                )
                #expect(keys.firstIndex(of: "labels") == keys.firstIndex(of: "logging")! + 1)
            case .service:
                #expect(
                    labels == [
                        "decnet.topology.id": id, "decnet.topology.decky": JSONValue(container.decky),
                        "decnet.topology.service_name": JSONValue(container.serviceName!),
                        "decnet.topology.service": "true",
                    ]
                )
                #expect(keys.last == "labels")
            }
            #expect(container.labels.map(\.key) == labels.keys.map(\.value))
        }
    }

    @Test(arguments: cases)
    func derivedNamesBridgesAndTeardown(_ c: VectorCase) throws {
        let plan = try Self.composer.compose(try #require(c["input"]))
        let derived = try #require(c["derived"])
        #expect(plan.composeFileName == derived["compose_file"]?.stringValue)
        #expect(plan.projectName == "decnet-topo-" + plan.prefix)
        #expect(plan.composeFileName == "decnet-topology-\(plan.prefix)-compose.yml")
        let bridges: [JSONValue] = plan.bridges.map {
            ["name": JSONValue($0.name), "subnet": JSONValue($0.subnet), "internal": .bool($0.internal)]
        }
        #expect(bridges == derived["bridges_in_create_order"]?.arrayValue)
        #expect(plan.teardownOrder.map { JSONValue($0) } == derived["bridges_in_teardown_order"]?.arrayValue)
    }

    /// The typed containers say what the document says (the runtime consumes the former, operators read the latter).
    @Test(arguments: cases)
    func containersAgreeWithTheDocument(_ c: VectorCase) throws {
        let plan = try Self.composer.compose(try #require(c["input"]))
        let services = try #require(plan.document["services"]?.objectValue)
        #expect(plan.containers.map(\.serviceKey) == services.keys.map(\.value))
        for container in plan.containers {
            let entry = try #require(services[container.serviceKey])
            try ContainerCheck.agrees(container, with: entry)
        }
    }

    static func removingLabels(_ document: JSONValue) -> JSONValue {
        guard case .object(var doc) = document, case .object(var services)? = doc["services"] else { return document }
        for key in services.keys {
            if case .object(var entry)? = services[key] {
                entry["labels"] = nil
                services[key] = .object(entry)
            }
        }
        doc["services"] = .object(services)
        return .object(doc)
    }
}

/// Field-by-field comparison of a `ContainerSpec` with its compose service entry.
enum ContainerCheck {
    static func agrees(_ c: ContainerSpec, with entry: JSONValue) throws {
        #expect(entry["container_name"]?.stringValue == c.containerName)
        #expect(entry["restart"]?.stringValue == c.restart)
        #expect(entry["hostname"]?.stringValue == c.hostname)
        #expect((entry["cap_add"]?.arrayValue ?? []) == c.capAdd.map { JSONValue($0) })
        #expect((entry["volumes"]?.arrayValue ?? []) == c.volumes.map { JSONValue($0) })
        #expect((entry["ports"]?.arrayValue ?? []) == c.ports.map { JSONValue($0.composeText) })
        #expect(entry["command"]?.arrayValue == c.command.map { $0.map { JSONValue($0) } })
        #expect((entry["depends_on"]?.arrayValue ?? []) == c.dependsOn.map { JSONValue($0) })
        #expect(entry["logging"]?["driver"]?.stringValue == c.logging.driver)
        let sysctls = entry["sysctls"]?.objectValue?.members.map { KeyValue($0.key.value, $0.value.jsonText) } ?? []
        #expect(sysctls == c.sysctls)
        switch c.image {
        case .image(let image):
            #expect(entry["image"]?.stringValue == image)
        case .build(let context, let args):
            #expect(entry["build"]?["context"]?.stringValue == context)
            let docArgs = entry["build"]?["args"]?.objectValue?.members.map {
                KeyValue($0.key.value, $0.value.stringValue ?? "?")
            }
            #expect(docArgs == args)
        }
        switch c.network {
        case .bridges(let attachments):
            let nets = try #require(entry["networks"]?.objectValue)
            #expect(nets.keys.map(\.value) == attachments.map(\.network))
            for a in attachments { #expect(nets[a.network]?["ipv4_address"]?.stringValue == a.ipv4Address) }
            #expect(c.role == .base)
        case .service(let key):
            #expect(entry["network_mode"]?.stringValue == "service:\(key)")
            #expect(c.role == .service)
        }
        let env = entry["environment"]?.objectValue?.members.map { ($0.key.value, $0.value) } ?? []
        #expect(env.map(\.0) == c.environment.map(\.name))
        for ((_, value), variable) in zip(env, c.environment) {
            #expect(value.stringValue == variable.value)
        }
    }
}
