import DecnetJSON

/// A container as `GET /containers/{id}/json` describes it: the facts the runtime checks after create and start.
public struct DockerContainer: Sendable, Equatable {
    /// The `State` block: what the container is doing now.
    public struct State: Sendable, Equatable {
        /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
        public var status: String
        public var isRunning: Bool
        public var exitCode: Int
        public var pid: Int
        /// Docker's explanation when the container failed to start (empty otherwise).
        public var error: String
        public var startedAt: String
        public var finishedAt: String
    }

    /// The container's endpoint on one network.
    public struct Endpoint: Sendable, Equatable {
        public var networkName: String
        public var networkID: String
        /// The address in use, without prefix length; empty while the container is not running.
        public var ipAddress: String
        /// The static address requested at create or connect (`IPAMConfig.IPv4Address`), if any.
        public var requestedIPv4Address: String?
        public var gateway: String
        public var macAddress: String
        public var aliases: [String]
    }

    public var id: String
    /// The name without Docker's leading `/`.
    public var name: String
    /// The image reference the container was created from (`Config.Image`).
    public var image: String
    /// The image's id (`sha256:...`).
    public var imageID: String
    public var state: State
    public var labels: [String: String]
    /// Endpoints sorted by network name (code points).
    public var networks: [Endpoint]
    /// The whole description (`HostConfig`, `Config`, ...), for fields not surfaced above.
    public var raw: JSONValue

    public init(json: JSONValue, operation: String = "container") throws(DockerError) {
        raw = json
        id = try json.dockerRequiredString("Id", in: operation)
        name = Self.stripSlash(json["Name"]?.stringValue ?? "")
        image = json["Config"]?["Image"]?.stringValue ?? ""
        imageID = json["Image"]?.stringValue ?? ""
        let state = json["State"]
        self.state = State(
            status: state?["Status"]?.stringValue ?? "",
            isRunning: state?["Running"]?.boolValue ?? false,
            exitCode: state?["ExitCode"]?.intValue ?? 0,
            pid: state?["Pid"]?.intValue ?? 0,
            error: state?["Error"]?.stringValue ?? "",
            startedAt: state?["StartedAt"]?.stringValue ?? "",
            finishedAt: state?["FinishedAt"]?.stringValue ?? ""
        )
        labels = json["Config"]?["Labels"]?.dockerStringMap ?? [:]
        networks = Self.endpoints(json["NetworkSettings"]?["Networks"])
    }

    /// The endpoint on the network called `name`, compared by code points.
    public func endpoint(onNetwork name: String) -> Endpoint? {
        networks.first { JSONString($0.networkName) == JSONString(name) }
    }

    static func endpoints(_ networks: JSONValue?) -> [Endpoint] {
        (networks?.objectValue?.members ?? []).map { member in
            let value = member.value
            let requested = value["IPAMConfig"]?["IPv4Address"]?.stringValue
            return Endpoint(
                networkName: member.key.value,
                networkID: value["NetworkID"]?.stringValue ?? "",
                ipAddress: value["IPAddress"]?.stringValue ?? "",
                requestedIPv4Address: requested.flatMap { $0.isEmpty ? nil : $0 },
                gateway: value["Gateway"]?.stringValue ?? "",
                macAddress: value["MacAddress"]?.stringValue ?? "",
                aliases: value["Aliases"]?.dockerStrings ?? []
            )
        }
        .sorted { JSONString($0.networkName) < JSONString($1.networkName) }
    }

    static func stripSlash(_ name: String) -> String {
        name.hasPrefix("/") ? String(name.dropFirst()) : name
    }
}
