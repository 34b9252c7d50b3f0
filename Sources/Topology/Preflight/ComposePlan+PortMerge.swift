extension ComposePlan {
    /// The plan with each container's repeated identical port mappings merged, first occurrence kept (http and
    /// https both publishing `443:443` become one publication). The document is left as composed, as DECNET wrote it.
    public func mergingDuplicatePorts() -> ComposePlan {
        var plan = self
        for i in plan.containers.indices {
            plan.containers[i].ports = Self.mergedPorts(plan.containers[i].ports)
        }
        return plan
    }

    /// Mappings with exact repeats removed, order kept.
    public static func mergedPorts(_ ports: [PortMapping]) -> [PortMapping] {
        var seen = Set<PortMapping>()
        return ports.filter { seen.insert($0).inserted }
    }
}
