import DecnetJSON
import Topology

extension TopologyOperations {
    /// Containers or bridges of the plan that share a Docker name (issue code `NAME_COLLISION`).
    static func nameCollisions(_ plan: ComposePlan) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        func duplicates(_ names: [String], _ kind: String) {
            var seen = Set<JSONString>()
            var reported = Set<JSONString>()
            for name in names.map({ JSONString($0) })
            where !seen.insert(name).inserted && reported.insert(name).inserted {
                issues.append(
                    ValidationIssue(
                        code: "NAME_COLLISION",
                        message: "\(kind) name \"\(name.value)\" would be used twice",
                        target: [kind: .string(name)]
                    )
                )
            }
        }
        duplicates(plan.containers.map(\.containerName), "container")
        var bridgeSubnets: [JSONString: String] = [:]
        var bridgeNames: [String] = []
        for bridge in plan.bridges {
            let key = JSONString(bridge.name)
            // The same LAN listed twice with one subnet is one bridge; two subnets behind one name is a collision.
            if let subnet = bridgeSubnets[key], subnet == bridge.subnet { continue }
            bridgeSubnets[key] = bridge.subnet
            bridgeNames.append(bridge.name)
        }
        duplicates(bridgeNames, "bridge")
        return issues
    }
}
