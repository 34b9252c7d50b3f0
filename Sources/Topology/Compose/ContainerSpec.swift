import DecnetJSON

/// One container of a composed topology, typed for the Docker Engine API: what `docker compose` would derive from
/// the document's service entry. A base container owns the decky's network namespace and IPs; service containers
/// join it (`network_mode: service:<base>`).
public struct ContainerSpec: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable {
        case base
        case service
    }

    /// The compose service key: the decky name for a base, `<decky>-<service>` for a service container.
    public var serviceKey: String
    /// `decnet_t_<prefix>_<decky>` for a base; the catalog's `<decky>-<suffix>` for a service container.
    public var containerName: String
    public var decky: String
    public var role: Role
    /// The catalog service name; nil for a base.
    public var serviceName: String?
    public var image: ImageSource
    /// Set for bases (the decky name); service containers share the base's UTS namespace.
    public var hostname: String?
    public var network: NetworkMode
    public var environment: [EnvironmentVariable]
    public var capAdd: [String]
    /// Kernel parameters, values as Docker's API wants them (strings).
    public var sysctls: [KeyValue]
    /// Host port publications as composed: duplicates kept (see `ComposePlan.mergingDuplicatePorts()`).
    public var ports: [PortMapping]
    /// Bind mounts as `host:container[:mode]` strings (Docker's `HostConfig.Binds` form).
    public var volumes: [String]
    public var labels: [KeyValue]
    public var command: [String]?
    public var restart: String
    public var logging: LoggingConfig
    /// Compose service keys that must run first.
    public var dependsOn: [String]

    public init(
        serviceKey: String,
        containerName: String,
        decky: String,
        role: Role,
        serviceName: String?,
        image: ImageSource,
        hostname: String?,
        network: NetworkMode,
        environment: [EnvironmentVariable],
        capAdd: [String],
        sysctls: [KeyValue],
        ports: [PortMapping],
        volumes: [String],
        labels: [KeyValue],
        command: [String]?,
        restart: String,
        logging: LoggingConfig,
        dependsOn: [String]
    ) {
        self.serviceKey = serviceKey
        self.containerName = containerName
        self.decky = decky
        self.role = role
        self.serviceName = serviceName
        self.image = image
        self.hostname = hostname
        self.network = network
        self.environment = environment
        self.capAdd = capAdd
        self.sysctls = sysctls
        self.ports = ports
        self.volumes = volumes
        self.labels = labels
        self.command = command
        self.restart = restart
        self.logging = logging
        self.dependsOn = dependsOn
    }

    /// Where the image comes from.
    public enum ImageSource: Sendable, Hashable {
        case image(String)
        /// Build `context` (an absolute folder) with these build arguments.
        case build(context: String, args: [KeyValue])
    }

    /// How the container is networked.
    public enum NetworkMode: Sendable, Hashable {
        /// Attached to bridges with static addresses, in `ips_by_lan` order (the first is the primary network).
        case bridges([NetworkAttachment])
        /// Shares the network namespace of the container of this compose service key.
        case service(String)
    }

    /// One bridge attachment with its static IPv4 address.
    public struct NetworkAttachment: Sendable, Hashable {
        public var network: String
        public var lanName: String
        public var ipv4Address: String

        public init(network: String, lanName: String, ipv4Address: String) {
            self.network = network
            self.lanName = lanName
            self.ipv4Address = ipv4Address
        }
    }

    /// An environment variable. A nil value is compose's `KEY: null` (take it from the caller's environment); the
    /// agent passes no environment of its own, so the runtime leaves such a variable out.
    public struct EnvironmentVariable: Sendable, Hashable {
        public var name: String
        public var value: String?

        public init(_ name: String, _ value: String?) {
            self.name = name
            self.value = value
        }
    }

    /// Docker's log driver settings (`HostConfig.LogConfig`).
    public struct LoggingConfig: Sendable, Hashable {
        public var driver: String
        public var options: [KeyValue]

        public init(driver: String, options: [KeyValue]) {
            self.driver = driver
            self.options = options
        }
    }
}
