import AgentCore
import AgentStore
import Logging
import Topology

/// The agent without a link: the store, the operations over it and the runtime, and the state directory's lock.
/// `decnet-agent local` uses these alone; ``buildAgent(configuration:core:observer:onClose:logger:)`` adds the link
/// and the services around them.
public final class AgentCoreParts: Sendable {
    /// How the state directory is held while the parts are open.
    public enum Locking: Sendable {
        /// Not at all (read-only commands such as `local state`).
        case none
        /// The `flock` only (`local apply`, `local teardown`).
        case exclusive
        /// The `flock`, and a guard that notices the folder being deleted or replaced (the daemon:
        /// docs/reliability.md#state-folder).
        case guarded
    }

    public let settings: AgentSettings
    public let store: TopologyStore
    public let executor: StoreExecutor
    public let operations: TopologyOperations
    public let runtime: any TopologyRuntime
    let lock: StateDirectoryLock?
    let stateGuard: StateDirectoryGuard?

    /// Parts over a store the caller opened (and closes: ``close()`` closes it too).
    public init(
        settings: AgentSettings,
        store: TopologyStore,
        runtime: any TopologyRuntime,
        preflight: PortPreflight = PortPreflight(),
        stateGuard: StateDirectoryGuard? = nil,
        lock: StateDirectoryLock? = nil,
        logger: Logger = Logger(label: "decnet.agent")
    ) {
        self.settings = settings
        self.store = store
        self.runtime = runtime
        self.stateGuard = stateGuard
        self.lock = lock
        executor = StoreExecutor(store: store)
        operations = TopologyOperations(
            settings: settings,
            store: executor,
            runtime: runtime,
            preflight: preflight,
            stateGuard: stateGuard,
            logger: logger
        )
    }

    /// Takes the state directory (`settings.stateDirectory`, which must exist) as `locking` says and opens its
    /// store. Throws `StateDirectoryLock.Busy` when another agent holds the folder, or the store's error.
    public static func open(
        settings: AgentSettings,
        runtime: any TopologyRuntime,
        preflight: PortPreflight = PortPreflight(),
        locking: Locking,
        logger: Logger
    ) throws -> AgentCoreParts {
        let directory = settings.stateDirectory
        // The lock (and the guard) first: no second agent may open the store while this one holds the folder.
        var lock: StateDirectoryLock?
        var stateGuard: StateDirectoryGuard?
        switch locking {
        case .none: break
        case .exclusive: lock = try StateDirectoryLock(stateDirectory: directory)
        case .guarded: stateGuard = try StateDirectoryGuard(stateDirectory: directory)
        }
        let store = try TopologyStore(path: directory + "/" + TopologyStore.fileName, logger: logger)
        stateGuard?.storeOpened()
        return AgentCoreParts(
            settings: settings,
            store: store,
            runtime: runtime,
            preflight: preflight,
            stateGuard: stateGuard,
            lock: lock,
            logger: logger
        )
    }

    /// Closes the store; the lock is released when the last reference to these parts goes.
    public func close() {
        store.close()
    }
}
