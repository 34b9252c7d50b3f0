import DecnetJSON

/// One honeypot service of the catalog: what its container is built from, which host ports a forwarding decky
/// publishes for it, and how its compose fragment (environment, capabilities, volumes) is derived.
public struct ServiceDefinition: Sendable, Hashable {
    /// The name deckies list in `services` (`ssh`, `smtp_relay`).
    public var name: JSONString
    /// Ports a forwarding decky publishes as `"<p>:<p>"`, in this order. The seed lists UDP-speaking services' ports
    /// here too (snmp 161, tftp 69) and publishes them as TCP; see docs/catalog.md.
    public var tcpPorts: [Int]
    /// Ports published as `"<p>:<p>/udp"` after the TCP ones (DECNET's later `udp_ports`). Empty for every seed service.
    public var udpPorts: [Int]
    /// The container image: a template folder built with `BASE_IMAGE`, or a ready-made image.
    public var source: Source
    /// The service container is named `<decky>-<containerSuffix>` (`docker_api` uses `docker-api`).
    public var containerSuffix: String
    public var capAdd: [String]
    /// Environment rules in fragment order; `HOSTNAME` is appended by the composer.
    public var environment: [EnvironmentRule]
    /// Volume strings; `{decky}` is replaced with the decky name.
    public var volumes: [String]
    /// Labels of the fragment, merged under the topology labels.
    public var labels: [KeyValue]
    /// Overrides the image's command when set.
    public var command: [String]?
    /// A fleet-wide singleton (`sniffer`) is never composed into a topology and is not a valid topology service.
    public var fleetSingleton: Bool

    public init(
        name: JSONString,
        tcpPorts: [Int] = [],
        udpPorts: [Int] = [],
        source: Source,
        containerSuffix: String,
        capAdd: [String] = [],
        environment: [EnvironmentRule] = [],
        volumes: [String] = [],
        labels: [KeyValue] = [],
        command: [String]? = nil,
        fleetSingleton: Bool = false
    ) {
        self.name = name
        self.tcpPorts = tcpPorts
        self.udpPorts = udpPorts
        self.source = source
        self.containerSuffix = containerSuffix
        self.capAdd = capAdd
        self.environment = environment
        self.volumes = volumes
        self.labels = labels
        self.command = command
        self.fleetSingleton = fleetSingleton
    }

    /// Where a service container's image comes from.
    public enum Source: Sendable, Hashable {
        /// Built from `<templates root>/<template>`; `BASE_IMAGE` is added to `args` when absent.
        case build(template: String, args: [KeyValue])
        /// A ready-made image reference.
        case image(String)
    }

    /// One environment variable of the fragment, in order.
    public struct EnvironmentRule: Sendable, Hashable {
        public var name: String
        public var kind: Kind

        public init(name: String, kind: Kind) {
            self.name = name
            self.kind = kind
        }

        public enum Kind: Sendable, Hashable {
            /// Always set; `{decky}` in the text is replaced with the decky name.
            case constant(String)
            /// Set from the decky's `service_config` knob when the knob is present (even when null), else from
            /// `default` when there is one, else left out.
            case knob(String, conversion: Conversion, default: JSONValue?)
            /// A host folder from the knob, mounted read-only at `mountPoint`; the variable is set to `mountPoint`.
            case mountDirectory(knob: String, mountPoint: String)
        }
    }

    /// How a knob value becomes an environment value.
    public enum Conversion: String, Sendable, Hashable, CaseIterable {
        // The catalog file's fourth `convert` value, `mount_dir`, is `EnvironmentRule.Kind.mountDirectory`.
        /// The JSON value unchanged (a number stays a number in the compose document).
        case asIs = "as_is"
        /// Python `str()`: `5` → `"5"`, `true` → `"True"`, `null` → `"None"`.
        case pythonStr = "python_str"
        /// Objects become `json.dumps` text with Python's default separators; anything else is unchanged.
        case jsonIfObject = "json_if_object"
    }
}

/// An ordered string pair (build argument, label).
public struct KeyValue: Sendable, Hashable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}
