import DecnetJSON

/// What `POST /networks/create` should make: a bridge by default, with explicit subnets, labels and the internal flag.
public struct DockerNetworkSpec: Sendable, Equatable {
    public var name: String
    public var driver: String
    /// An internal network has no route to the outside (DECNET: every LAN but the DMZ).
    public var isInternal: Bool
    /// Pools for Docker's default IPAM driver; empty lets Docker pick a subnet.
    public var pools: [DockerNetwork.Pool]
    public var labels: [String: String]
    /// Ask Docker to refuse a second network with the same name (it otherwise allows duplicates).
    public var checkDuplicate: Bool
    public var isAttachable: Bool
    /// Driver options, e.g. `com.docker.network.bridge.name`.
    public var options: [String: String]

    public init(
        name: String,
        driver: String = "bridge",
        isInternal: Bool = false,
        pools: [DockerNetwork.Pool] = [],
        labels: [String: String] = [:],
        checkDuplicate: Bool = true,
        isAttachable: Bool = false,
        options: [String: String] = [:]
    ) {
        self.name = name
        self.driver = driver
        self.isInternal = isInternal
        self.pools = pools
        self.labels = labels
        self.checkDuplicate = checkDuplicate
        self.isAttachable = isAttachable
        self.options = options
    }

    /// The request body, with members in a stable order.
    public var body: JSONValue {
        var ipamConfig: [JSONValue] = []
        for pool in pools {
            var entry = JSONObject()
            entry["Subnet"] = JSONValue(pool.subnet)
            if let gateway = pool.gateway { entry["Gateway"] = JSONValue(gateway) }
            if let ipRange = pool.ipRange { entry["IPRange"] = JSONValue(ipRange) }
            ipamConfig.append(.object(entry))
        }
        var body = JSONObject()
        body["Name"] = JSONValue(name)
        body["CheckDuplicate"] = .bool(checkDuplicate)
        body["Driver"] = JSONValue(driver)
        body["Internal"] = .bool(isInternal)
        body["Attachable"] = .bool(isAttachable)
        body["IPAM"] = ["Driver": "default", "Config": .array(ipamConfig), "Options": [:]]
        body["Options"] = Self.stringObject(options)
        body["Labels"] = Self.stringObject(labels)
        return .object(body)
    }

    static func stringObject(_ map: [String: String]) -> JSONValue {
        .object(JSONObject(map.keys.sorted().map { (JSONString($0), JSONValue(map[$0]!)) }))
    }
}
