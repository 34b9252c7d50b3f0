import DecnetJSON

/// A Docker network as the list and inspect endpoints describe it.
///
/// The list endpoint leaves `containers` empty whatever is attached; only inspect fills it.
public struct DockerNetwork: Sendable, Equatable {
    /// One IPAM pool of the network.
    public struct Pool: Sendable, Equatable {
        public var subnet: String
        public var gateway: String?
        public var ipRange: String?

        public init(subnet: String, gateway: String? = nil, ipRange: String? = nil) {
            self.subnet = subnet
            self.gateway = gateway
            self.ipRange = ipRange
        }
    }

    /// A container attached to the network (inspect only).
    public struct Attachment: Sendable, Equatable {
        public var containerID: String
        public var name: String
        /// With its prefix length, e.g. `10.0.1.5/24`; empty when Docker has not assigned one.
        public var ipv4Address: String
    }

    public var id: String
    public var name: String
    public var driver: String
    public var scope: String
    /// Docker blocks traffic between an internal network and the outside world.
    public var isInternal: Bool
    public var isAttachable: Bool
    public var pools: [Pool]
    public var labels: [String: String]
    public var containers: [Attachment]
    /// The whole description, for fields not surfaced above.
    public var raw: JSONValue

    public init(json: JSONValue, operation: String = "network") throws(DockerError) {
        raw = json
        id = try json.dockerRequiredString("Id", in: operation)
        name = try json.dockerRequiredString("Name", in: operation)
        driver = json["Driver"]?.stringValue ?? ""
        scope = json["Scope"]?.stringValue ?? ""
        isInternal = json["Internal"]?.boolValue ?? false
        isAttachable = json["Attachable"]?.boolValue ?? false
        pools = (json["IPAM"]?["Config"]?.arrayValue ?? []).compactMap { pool in
            guard let subnet = pool["Subnet"]?.stringValue else { return nil }
            return Pool(
                subnet: subnet,
                gateway: pool["Gateway"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
                ipRange: pool["IPRange"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            )
        }
        labels = json["Labels"]?.dockerStringMap ?? [:]
        containers = (json["Containers"]?.objectValue?.members ?? []).map { member in
            Attachment(
                containerID: member.key.value,
                name: member.value["Name"]?.stringValue ?? "",
                ipv4Address: member.value["IPv4Address"]?.stringValue ?? ""
            )
        }
        .sorted { JSONString($0.name) < JSONString($1.name) }
    }

    /// The subnet of the first IPAM pool, the one DECNET compares when deciding whether to reuse a bridge.
    public var firstSubnet: String? { pools.first?.subnet }
}
