/// Checks, before any Docker change, that every host port a composed topology publishes can be published
/// (docs/deviations.md#host-port-preflight).
///
/// After merging a container's repeated mappings, a host port is refused when more than one container (or two
/// different mappings) publishes it — `collision` — or when something on this host already holds it — `bound`.
/// Ports the topology's own running containers hold are passed in as `ownedPorts`, so re-applying a running
/// topology does not conflict with itself. DECNET's master-side PORT_COLLISION warning is the weaker ancestor.
public struct PortPreflight: Sendable {
    /// Returns the host ports in use on this host (TCP listening, UDP bound).
    public typealias BoundPortsProbe = @Sendable () throws(ComposeError) -> Set<HostPort>

    private let boundPorts: BoundPortsProbe

    /// - Parameter boundPorts: defaults to reading `/proc/net/{tcp,tcp6,udp,udp6}`; tests inject their own.
    public init(
        boundPorts: @escaping BoundPortsProbe = { () throws(ComposeError) in try ProcNetSockets().boundPorts() }
    ) {
        self.boundPorts = boundPorts
    }

    /// The conflicts of `plan`, sorted by port, protocol, then reason; empty when it can be applied. The probe is
    /// only consulted when the plan publishes something.
    public func check(_ plan: ComposePlan, ownedPorts: Set<HostPort> = []) throws(ComposeError) -> [PortConflict] {
        var publishers: [HostPort: [(decky: String, mapping: PortMapping)]] = [:]
        var order: [HostPort] = []
        for container in plan.containers {
            for mapping in ComposePlan.mergedPorts(container.ports) {
                let key = mapping.hostSide
                if publishers[key] == nil { order.append(key) }
                publishers[key, default: []].append((container.decky, mapping))
            }
        }
        guard !order.isEmpty else { return [] }

        var conflicts: [PortConflict] = []
        let inUse = try boundPorts()
        for key in order {
            let list = publishers[key]!
            let deckies = Self.distinct(list.map(\.decky))
            if list.count > 1 {
                conflicts.append(PortConflict(port: key.port, proto: key.proto, deckies: deckies, reason: .collision))
            }
            if inUse.contains(key) && !ownedPorts.contains(key) {
                conflicts.append(PortConflict(port: key.port, proto: key.proto, deckies: deckies, reason: .bound))
            }
        }
        return conflicts.sorted { a, b in
            (HostPort(a.port, a.proto), a.reason) < (HostPort(b.port, b.proto), b.reason)
        }
    }

    /// Names in first-seen order, each once (compared by code points).
    static func distinct(_ names: [String]) -> [String] {
        var out: [String] = []
        for n in names where !out.contains(where: { $0.sameScalars(as: n) }) { out.append(n) }
        return out
    }
}
