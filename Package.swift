// swift-tools-version:6.0
import PackageDescription

// Linux only (Debian 12 is what it is built, tested and packaged on): the code uses Glibc, /proc, epoll-backed
// libzmq and the Docker Engine's unix socket. SwiftPM cannot name Linux as the only platform, so no `platforms`
// entry claims another.
let package = Package(
    name: "decnet-agent",
    products: [
        .executable(name: "decnet-agent", targets: ["AgentCLI"]),
        .executable(name: "decnet-master", targets: ["MasterCLI"]),
        .executable(name: "decnet-bench", targets: ["Bench"]),
        .library(name: "Topology", targets: ["Topology"]),
        .library(name: "DecnetJSON", targets: ["DecnetJSON"]),
        .library(name: "AgentStore", targets: ["AgentStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries from Debian: libzmq3-dev, libsodium-dev, libsqlite3-dev.
        .systemLibrary(
            name: "CZeroMQ",
            path: "Sources/CZeroMQ",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .systemLibrary(
            name: "CSodium",
            path: "Sources/CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),

        // libzmq's CURVE secrets served from locked, reused memory instead of libsodium's per-call guarded pages
        // (docs/scaling.md#handshakes): linked into the master, whose every handshake it makes several times cheaper.
        .target(name: "CSecureArena", path: "Sources/CSecureArena"),

        // Pure Swift domain.
        .target(name: "DecnetJSON", path: "Sources/JSON"),
        // The project's dealings with files beyond reading and writing them: the reason of a file error worded as the
        // full Foundation words it (the agent links only FoundationEssentials), the one `flock` lock of a state or
        // master folder, and the owner-only rule for secret key files.
        .target(name: "SystemFiles", path: "Sources/SystemFiles"),
        // SHA-256 through libsodium: the canonical hash, request fingerprints, image and blueprint digests.
        .target(name: "Hashing", dependencies: ["CSodium"], path: "Sources/Hashing"),
        .target(name: "Topology", dependencies: ["DecnetJSON", "Hashing", "SystemFiles"], path: "Sources/Topology"),
        .target(
            name: "AgentStore",
            dependencies: ["DecnetJSON", "CSQLite", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Store"
        ),

        // The master's SQLite store (desired state, requests, agents seen), over the agent store's wrapper.
        .target(
            name: "MasterStore",
            dependencies: ["AgentStore", .product(name: "Logging", package: "swift-log")],
            path: "Sources/MasterStore"
        ),

        // Wire protocol v1: envelopes, error codes, request decoding (pure Swift).
        .target(name: "AgentProtocol", dependencies: ["DecnetJSON", "Hashing"], path: "Sources/Protocol"),

        // The agent's logic: topology operations, command dispatch, heartbeats. Depends on protocols, not on C.
        .target(
            name: "AgentCore",
            dependencies: [
                "DecnetJSON", "Topology", "AgentStore", "AgentProtocol", "SystemFiles",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/AgentCore"
        ),

        // The agent's side of the wire: DEALER + PUB as CURVE clients, hello on every connection.
        .target(
            name: "AgentTransport",
            dependencies: [
                "ZeroMQ", "AgentCore", "AgentProtocol", "DecnetJSON", "Topology", "AgentStore", "SystemFiles",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/AgentTransport"
        ),

        // The agent assembled: buildAgent (settings + keys + catalog + a runtime in, the services out), each
        // long-running part a Service in one ServiceGroup, and the parts `decnet-agent local` shares.
        .target(
            name: "AgentApplication",
            dependencies: [
                "AgentCore", "AgentTransport", "AgentProtocol", "AgentStore", "CLISupport", "DecnetJSON", "SystemFiles",
                "Topology", "ZeroMQ", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Sources/AgentApplication"
        ),

        // libzmq wrapper: sockets owned by dedicated threads, CURVE keys, certificates, ZAP, monitor events.
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ", "CSodium", "SystemFiles"], path: "Sources/ZeroMQ"),

        // The Docker Engine API over its unix socket (HTTP/1.1 through NIOHTTP1); knows nothing of topologies.
        .target(
            name: "DockerEngine",
            dependencies: [
                "DecnetJSON", "SystemFiles",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/DockerEngine"
        ),
        // The TopologyRuntime for Docker: materialise and tear down a plan, observe what runs, retry, label.
        .target(
            name: "DockerRuntime",
            dependencies: [
                "DockerEngine", "DecnetJSON", "Topology", "Hashing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/DockerRuntime"
        ),

        // The master side of the wire: ROUTER/SUB/XPUB as CURVE servers, fleet view, request retries, control channel.
        .target(
            name: "Master",
            dependencies: [
                "ZeroMQ", "AgentProtocol", "DecnetJSON", "Topology", "SystemFiles", "MasterStore", "AgentStore",
                "CSecureArena", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Sources/Master"
        ),

        // The master's Prometheus endpoint: GET /metrics over NIOHTTP1, bounded for hostile peers (docs/metrics.md).
        .target(
            name: "MetricsEndpoint",
            dependencies: [
                "Master",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/MetricsEndpoint"
        ),

        // Shared by the executables: reading operator input, writing JSON output, the commands both have (`hash`).
        .target(
            name: "CLISupport",
            dependencies: [
                "DecnetJSON", "Topology", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/CLISupport"
        ),

        // systemd's notification protocol (READY, STATUS, WATCHDOG, STOPPING) over NOTIFY_SOCKET, without libsystemd.
        .target(name: "SystemdNotify", path: "Sources/SystemdNotify"),

        // Executables only wire things together.
        .executableTarget(
            name: "AgentCLI",
            dependencies: [
                "DecnetJSON", "Topology", "AgentStore", "CLISupport", "AgentCore", "AgentProtocol", "AgentTransport",
                "AgentApplication", "DockerEngine", "DockerRuntime", "ZeroMQ", "SystemFiles", "SystemdNotify",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/AgentCLI"
        ),
        .executableTarget(
            name: "MasterCLI",
            dependencies: [
                "DecnetJSON", "Topology", "CLISupport", "Master", "MetricsEndpoint", "AgentProtocol", "ZeroMQ",
                "SystemdNotify", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/MasterCLI"
        ),
        .executableTarget(
            name: "Bench",
            dependencies: [
                "DecnetJSON", "Topology", "Master", "MasterStore", "ZeroMQ", "AgentProtocol",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Bench"
        ),
        // libFuzzer target over the frame decoder, JSON, canonical hash, validator and composer (scripts/fuzz.sh).
        .executableTarget(
            name: "fuzz-agent",
            dependencies: ["DecnetJSON", "Topology", "Hashing", "AgentProtocol"],
            path: "Sources/FuzzAgent"
        ),
        // CURVE round trips on loopback through the socket thread's bridge and without it (scripts/bench-zmq.sh).
        .executableTarget(name: "zmq-latency", dependencies: ["ZeroMQ"], path: "Sources/BenchZeroMQ"),
        // Many simulated agents in one process against a real master, for the load test (scripts/load-test.sh).
        .executableTarget(
            name: "load-agents",
            dependencies: [
                "ZeroMQ", "AgentProtocol", "DecnetJSON", "Master",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/LoadAgents"
        ),

        // Test helpers without NIO or libzmq: fixtures, temporary folders, waiting, recorders, log capture, the
        // in-memory runtime, schema checks, programs run to completion. What the pure test targets may use.
        .target(
            name: "TestSupport",
            dependencies: [
                "DecnetJSON", "Topology", "AgentProtocol", .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"
        ),
        // Test helpers that reach outside the process: background processes, the real dockerd, a fake daemon on a
        // unix socket, a CURVE test master, systemd's notify socket.
        .target(
            name: "LiveTestSupport",
            dependencies: ["TestSupport", "DecnetJSON", "AgentProtocol", "ZeroMQ", "DockerEngine"],
            path: "Tests/LiveTestSupport"
        ),
        .testTarget(
            name: "JSONTests",
            dependencies: ["DecnetJSON", "Topology", "TestSupport"],
            path: "Tests/JSONTests"
        ),
        .testTarget(
            name: "ValidatorTests",
            dependencies: ["DecnetJSON", "Topology", "TestSupport"],
            path: "Tests/ValidatorTests"
        ),
        .testTarget(
            name: "ComposerTests",
            dependencies: ["DecnetJSON", "Topology", "SystemFiles", "TestSupport"],
            path: "Tests/ComposerTests"
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: ["DecnetJSON", "AgentStore", "TestSupport"],
            path: "Tests/StoreTests"
        ),
        // Writes to the store until killed, for the store's kill -9 and disk-full tests.
        .executableTarget(
            name: "store-crash-helper",
            dependencies: ["DecnetJSON", "AgentStore"],
            path: "Tests/StoreCrashHelper"
        ),
        .testTarget(
            name: "ProtocolTests",
            dependencies: ["AgentProtocol", "DecnetJSON", "TestSupport"],
            path: "Tests/ProtocolTests"
        ),
        .testTarget(
            name: "AgentCoreTests",
            dependencies: [
                "AgentCore", "AgentProtocol", "AgentStore", "DecnetJSON", "Topology", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/AgentCoreTests"
        ),
        .testTarget(
            name: "CLITests",
            dependencies: [
                "DecnetJSON", "TestSupport", "LiveTestSupport", "AgentCLI", "AgentApplication", "AgentProtocol",
            ],
            path: "Tests/CLITests"
        ),
        // `decnet-agent local` against the real dockerd.
        .testTarget(
            name: "CLIIntegrationTests",
            dependencies: ["DecnetJSON", "TestSupport", "AgentCLI"],
            path: "Tests/CLIIntegrationTests"
        ),
        // The runtime without a daemon: blueprints, reconciliation, the observation cache, a fake or absent daemon.
        .testTarget(
            name: "DockerRuntimeTests",
            dependencies: [
                "DockerRuntime", "DockerEngine", "Topology", "DecnetJSON", "TestSupport", "LiveTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/DockerRuntimeTests"
        ),
        // The runtime against the real dockerd: materialise, failures, the observer and its reconnects.
        .testTarget(
            name: "DockerRuntimeIntegrationTests",
            dependencies: [
                "DockerRuntime", "DockerEngine", "Topology", "DecnetJSON", "TestSupport", "LiveTestSupport",
            ],
            path: "Tests/DockerRuntimeIntegrationTests"
        ),
        .testTarget(
            name: "AgentTransportTests",
            dependencies: [
                "AgentTransport", "AgentCore", "AgentProtocol", "AgentStore", "DecnetJSON", "ZeroMQ", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/AgentTransportTests"
        ),
        // The assembled agent over real CURVE sockets against a test master (in-memory runtime), its shutdown
        // contract under ServiceLifecycleTestKit, and the resident-memory trim.
        .testTarget(
            name: "AgentApplicationTests",
            dependencies: [
                "AgentApplication", "AgentTransport", "AgentCore", "AgentProtocol", "AgentStore", "DecnetJSON",
                "Topology", "ZeroMQ", "TestSupport", "LiveTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            path: "Tests/AgentApplicationTests"
        ),
        .testTarget(
            name: "SystemdNotifyTests",
            dependencies: ["SystemdNotify", "TestSupport", "LiveTestSupport"],
            path: "Tests/SystemdNotifyTests"
        ),
        .testTarget(
            name: "ZeroMQTests",
            dependencies: ["ZeroMQ", "TestSupport", "LiveTestSupport"],
            path: "Tests/ZeroMQTests"
        ),
        // Malformed and hostile frames through the real dispatcher and over CURVE; the agent's security properties.
        .testTarget(
            name: "HostileInputTests",
            dependencies: [
                "AgentCore", "AgentProtocol", "AgentStore", "AgentTransport", "AgentApplication", "DecnetJSON",
                "Hashing", "Topology", "ZeroMQ",
                "CSQLite", "TestSupport", "LiveTestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/HostileInputTests"
        ),
        .testTarget(
            name: "MasterTests",
            dependencies: [
                "Master", "MasterCLI", "MasterStore", "AgentStore", "MetricsEndpoint", "ZeroMQ", "AgentProtocol",
                "DecnetJSON", "Topology", "CSodium",
                "TestSupport", "LiveTestSupport", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/MasterTests"
        ),
        // The Engine API client without a daemon: models, tar, line splitting, the wire against a fake daemon.
        .testTarget(
            name: "DockerEngineTests",
            dependencies: ["DecnetJSON", "DockerEngine", "TestSupport", "LiveTestSupport"],
            path: "Tests/DockerEngineTests"
        ),
        // The Engine API client against the real dockerd.
        .testTarget(
            name: "DockerEngineIntegrationTests",
            dependencies: ["DecnetJSON", "DockerEngine", "TestSupport", "LiveTestSupport"],
            path: "Tests/DockerEngineIntegrationTests"
        ),
        // The agent behind a NAT in network namespaces (needs root); the real decnet-master and decnet-agent.
        .testTarget(
            name: "NetworkFaultIntegrationTests",
            dependencies: ["AgentCLI", "MasterCLI", "AgentProtocol", "DecnetJSON", "TestSupport", "LiveTestSupport"],
            path: "Tests/NetworkFaultIntegrationTests"
        ),
        // Outages of a private dockerd the tests stop and start (needs root); never the shared daemon.
        .testTarget(
            name: "DockerOutageIntegrationTests",
            dependencies: [
                "AgentCore", "AgentProtocol", "AgentStore", "AgentTransport", "AgentApplication", "DecnetJSON",
                "DockerEngine", "DockerRuntime", "Topology", "ZeroMQ", "TestSupport", "LiveTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/DockerOutageIntegrationTests"
        ),
        // Master and agent processes killed, restarted, starved of disk (real dockerd): docs/reliability.md#fault-tests
        .testTarget(
            name: "FaultIntegrationTests",
            dependencies: [
                "Master", "MasterCLI", "AgentCLI", "AgentProtocol", "AgentStore", "ZeroMQ", "DecnetJSON", "Topology",
                "CSQLite", "TestSupport",
            ],
            path: "Tests/FaultIntegrationTests"
        ),
    ]
)
