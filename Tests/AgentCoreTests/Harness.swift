import AgentCore
import AgentProtocol
import AgentStore
import DecnetJSON
import Foundation
import Synchronization
import TestSupport
import Topology

/// An agent core over a temporary state directory and the in-memory runtime.
final class Harness: Sendable {
    let directory: String
    let store: TopologyStore
    let executor: StoreExecutor
    let runtime = InMemoryRuntime()
    let settings: AgentSettings
    let operations: TopologyOperations
    let clock = Locked<Int64>(1_776_749_115)
    let sent = Locked<[JSONValue]>([])
    let boundPorts = Locked<Set<HostPort>>([])

    init() throws {
        directory = NSTemporaryDirectory() + "agentcore-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try TopologyStore(path: directory + "/agent.db")
        executor = StoreExecutor(store: store)
        settings = AgentSettings(
            agentID: "agent-1", agentVersion: "test", bootID: "boot-1", stateDirectory: directory,
            templatesRoot: "/nonexistent/templates")
        let clock = self.clock
        let bound = self.boundPorts
        operations = TopologyOperations(
            settings: settings, store: executor, runtime: runtime,
            preflight: PortPreflight(boundPorts: { () throws(ComposeError) in bound.withLock { $0 } }),
            now: { clock.withLock { $0 } })
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func dispatcher() -> CommandDispatcher {
        let sent = self.sent
        let clock = self.clock
        return CommandDispatcher(
            operations: operations, store: executor, settings: settings, now: { clock.withLock { $0 } },
            send: { out in
                let value = (try? JSONParser.parse(out.frame)) ?? .null
                sent.withLock { $0.append(value) }
            })
    }

    var messages: [JSONValue] { sent.withLock { $0 } }

    func messages(id: String) -> [JSONValue] { messages.filter { $0["id"]?.stringValue == id } }

    /// Waits (bounded) until a message matches.
    func waitFor(_ what: String, timeout: Duration = .seconds(10), _ match: (JSONValue) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if messages.contains(where: match) { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw FixtureError("timed out waiting for \(what); got \(messages.map(\.jsonText))")
    }
}

enum Topologies {
    /// DECNET's real generated 2-decky topology (one forwarding bridge publishing 22).
    static let two: JSONValue = try! topology("real_2_deckies_ssh_only")

    static func topology(_ name: String) throws -> JSONValue {
        let c = try require2(VectorCase.load("hash.json").first { $0.name == name })
        return c["input"]!
    }

    /// The same topology under another id.
    static func renamed(_ t: JSONValue, id: String) -> JSONValue {
        guard case .object(var o) = t, case .object(var top)? = o["topology"] else { return t }
        top["id"] = .string(JSONString(id))
        o["topology"] = .object(top)
        return .object(o)
    }

    /// A copy with one decky's services changed.
    static func withServices(_ t: JSONValue, decky index: Int, _ services: [String]) -> JSONValue {
        guard case .object(var o) = t, case .array(var deckies)? = o["deckies"], case .object(var d) = deckies[index]
        else { return t }
        d["services"] = JSONValue(services)
        deckies[index] = .object(d)
        o["deckies"] = .array(deckies)
        return .object(o)
    }

    static func apply(_ t: JSONValue, hash: String? = nil, supersede: Bool = false) -> ApplyRequest {
        ApplyRequest(hydrated: t, versionHash: hash ?? CanonicalHash.hash(t), supersede: supersede)
    }
}

func require2<T>(_ v: T?) throws -> T {
    guard let v else { throw FixtureError("missing fixture") }
    return v
}

let noProgress: TopologyOperations.Progress = { _, _, _, _ in }
