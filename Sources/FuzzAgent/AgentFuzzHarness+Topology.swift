import AgentProtocol
import DecnetJSON
import Topology

extension AgentFuzzHarness {
    static let validator = TopologyValidator(knownServices: ServiceCatalog.default.topologyServiceNames)
    static let composer = TopologyComposer(templatesRoot: "/nonexistent/templates")
    static let preflight = PortPreflight(boundPorts: { () throws(ComposeError) in [] })

    /// The agent's apply path without Docker: validate, check names, compose, merge ports, render the YAML and run the
    /// port preflight. What the validator and the name check accept must compose to Docker-safe, distinct names.
    static func checkTopology(_ value: JSONValue) {
        let report = validator.validate(value)
        FuzzInvariant.check(report.issues.count <= TopologyValidator.issueLimit, "issue list over its limit")
        let reportJSON = Messages.frame(report.jsonValue)
        FuzzInvariant.check((try? JSONParser.parse(reportJSON)) != nil, "report JSON does not re-parse")
        guard !report.hasErrors else { return }
        let names = validator.materialisationIssues(value)
        guard !names.contains(where: { $0.severity == .error }) else { return }

        let plan: ComposePlan
        do {
            plan = try composer.compose(value).mergingDuplicatePorts()
        } catch {
            // A validated topology may still fail on a `files` path or an unreadable shape: an answer, not a crash.
            return
        }
        _ = ComposeYAML.render(plan.document)
        _ = try? preflight.check(plan)
        FuzzInvariant.check(isSafeFileName(plan.composeFileName), "unsafe compose file name \(plan.composeFileName)")
        for bridge in plan.bridges {
            FuzzInvariant.check(isDockerName(bridge.name), "unsafe network name \(bridge.name)")
        }
        var seen = Set<JSONString>()
        for container in plan.containers {
            let name = container.containerName
            FuzzInvariant.check(isDockerName(name), "unsafe container name \(name)")
            FuzzInvariant.check(seen.insert(JSONString(name)).inserted, "duplicate container name \(name)")
        }
    }

    /// Docker's object name rule `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most 128 bytes (the materialisation check's bound).
    static func isDockerName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isAlphanumeric(first), name.utf8.count <= 128 else { return false }
        return name.utf8.allSatisfy { isAlphanumeric($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    }

    static func isSafeFileName(_ name: String) -> Bool {
        !name.isEmpty && !name.utf8.contains(0x2F) && !name.utf8.contains(0) && name != "." && name != ".."
            && !name.hasPrefix(".")
    }

    static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
}
