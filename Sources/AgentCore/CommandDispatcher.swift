import AgentProtocol
import AgentStore
import DecnetJSON
import Logging
import Topology

/// A message for the master. `event` marks the accepted/progress/result messages of apply and teardown, which the
/// transport also mirrors to monitors on `ev.<agent_id>`.
public struct Outbound: Sendable, Equatable {
    public var frame: [UInt8]
    public var event: Bool

    public init(frame: [UInt8], event: Bool) {
        self.frame = frame
        self.event = event
    }
}

/// Turns command frames into answers.
///
/// ```
///   frame ──decode──▶ rejected ─────────────────────────▶ result(error, id or null)
///            │
///            ├─ state / ping ───────────────────────────▶ result (at once, also during an apply)
///            │
///            └─ apply / teardown ─ busy? ───────────────▶ result(busy)             (not recorded)
///                                  │ store.beginRequest
///                                  ├─ reused ───────────▶ result(id_reused)
///                                  ├─ finished ─────────▶ the stored result, verbatim
///                                  ├─ running ──────────▶ accepted
///                                  └─ new ─▶ accepted ─▶ progress* ─▶ result (stored, then sent)
/// ```
/// Long operations run as child tasks of `run(frames:)`, one at a time.
public actor CommandDispatcher {
    public typealias Send = @Sendable (Outbound) async -> Void

    let operations: TopologyOperations
    let store: StoreExecutor
    let decoder: RequestDecoder
    let settings: AgentSettings
    let send: Send
    let onChange: @Sendable () -> Void
    let now: @Sendable () -> Int64
    let logger: Logger

    /// The apply or teardown in progress.
    public private(set) var running: (id: String, type: RequestType)?
    /// Results the store could not keep (disk full, read-only): retries are answered from here until the process
    /// ends, instead of "accepted" forever. Bounded like the store's own retention.
    private var unsaved: [String: [UInt8]] = [:]

    public init(
        operations: TopologyOperations,
        store: StoreExecutor,
        settings: AgentSettings,
        decoder: RequestDecoder = RequestDecoder(),
        now: @escaping @Sendable () -> Int64 = TopologyStore.unixTime,
        logger: Logger = Logger(label: "decnet.agent.dispatcher"),
        onChange: @escaping @Sendable () -> Void = {},
        send: @escaping Send
    ) {
        self.logger = logger
        self.operations = operations
        self.store = store
        self.settings = settings
        self.decoder = decoder
        self.now = now
        self.onChange = onChange
        self.send = send
    }

    /// `running` as the wire shows it: `{"id", "type"}` or null.
    public var runningJSON: JSONValue {
        running.map { Messages.running(id: $0.id, type: $0.type) } ?? .null
    }

    /// Handles frames until the stream ends; the operation in progress is then allowed to finish.
    public func run<S: AsyncSequence & Sendable>(frames: S) async where S.Element == [UInt8] {
        await run(messages: frames) { $0 }
    }

    /// Handles transport messages until the stream ends, taking each one's envelope with `frame`.
    public func run<S: AsyncSequence & Sendable>(
        messages: S,
        frame: @Sendable (S.Element) -> [UInt8]
    ) async {
        await withDiscardingTaskGroup { group in
            do {
                for try await message in messages {
                    if let start = await handle(frame(message)) {
                        group.addTask { await self.execute(start) }
                    }
                }
            } catch {
                // The inbound stream failed: stop taking frames; the running operation still completes.
            }
        }
    }

    /// Handles one frame. Returns the long operation to start, if the frame asked for one that may start now.
    func handle(_ frame: [UInt8]) async -> Request? {
        let request: Request
        switch decoder.decode(frame) {
        case .failure(let rejected):
            logger.warning(
                "rejected a command frame",
                metadata: [
                    "request_id": "\(rejected.id ?? "null")", "code": "\(rejected.error.code)",
                    "bytes": "\(frame.count)",
                ]
            )
            await reply(Messages.failure(id: rejected.id, error: rejected.error), event: false)
            return nil
        case .success(let r):
            request = r
        }
        switch request.body {
        case .ping:
            await reply(
                Messages.result(
                    id: request.id,
                    body: [
                        "agent_id": .string(JSONString(settings.agentID)),
                        "boot_id": .string(JSONString(settings.bootID)),
                        "agent_version": .string(JSONString(settings.agentVersion)),
                    ]
                ),
                event: false
            )
            return nil
        case .state:
            let frame = Messages.resultFrame(id: request.id, encodedBody: await operations.encodedState())
            await send(Outbound(frame: frame, event: false))
            return nil
        case .rotateKey(let phase):
            let outcome =
                await settings.keyRotation?.rotate(phase)
                ?? .failure(AgentError(.keyRotationFailed, "this agent cannot rotate its key"))
            switch outcome {
            case .success(let body): await reply(Messages.result(id: request.id, body: body), event: false)
            case .failure(let error): await reply(Messages.failure(id: request.id, error: error), event: false)
            }
            return nil
        case .apply, .teardown:
            return await admit(request)
        }
    }

    private func admit(_ request: Request) async -> Request? {
        // A retry of the running request is answered from the store below; anything else waits its turn.
        if let running, running.id != request.id {
            await reply(
                Messages.failure(
                    id: request.id,
                    error: AgentError(
                        .busy,
                        "\(running.type.rawValue) \(running.id) is running",
                        details: ["running": Messages.running(id: running.id, type: running.type)]
                    )
                ),
                event: false
            )
            return nil
        }
        let begin: RequestBegin
        do {
            let (id, fingerprint, type, at) = (request.id, request.fingerprint, request.type.rawValue, now())
            begin = try await store.run { try $0.beginRequest(id: id, fingerprint: fingerprint, type: type, at: at) }
        } catch {
            await reply(
                Messages.failure(
                    id: request.id,
                    error: AgentError(
                        .internal,
                        "cannot record the request: \(error)",
                        details: ["phase": "record"]
                    )
                ),
                event: false
            )
            return nil
        }
        switch begin {
        case .reused:
            await reply(
                Messages.failure(
                    id: request.id,
                    error: AgentError(
                        .idReused,
                        "request id \(request.id) was already used for a different request"
                    )
                ),
                event: false
            )
            return nil
        case .finished(let stored):
            await send(Outbound(frame: stored, event: false))
            return nil
        case .interrupted:
            await reply(ResultMessage.interrupted(id: request.id).jsonValue, event: false)
            return nil
        case .running:
            if let frame = unsaved[request.id] {
                await send(Outbound(frame: frame, event: false))
            } else {
                await reply(Messages.accepted(id: request.id), event: false)
            }
            return nil
        case .new:
            guard running == nil else {
                // Another retry raced us between the check and the store; the store already has it as running.
                await reply(Messages.accepted(id: request.id), event: false)
                return nil
            }
            running = (request.id, request.type)
            logger.info("started", metadata: ["request_id": "\(request.id)", "type": "\(request.type.rawValue)"])
            onChange()
            await reply(Messages.accepted(id: request.id), event: true)
            return request
        }
    }

    /// Runs an admitted apply or teardown to its one result, stores the result, then sends it.
    func execute(_ request: Request) async {
        let id = request.id
        let send = self.send
        // Progress comes from synchronous callbacks deep in the runtime; a stream keeps it in order and a child
        // task sends it, all of it before the result.
        let (progressStream, progressSink) = AsyncStream<Outbound>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let progress: TopologyOperations.Progress = { phase, done, total, message in
            let m = Messages.progress(id: id, phase: phase, done: done, total: total, message: message)
            progressSink.yield(Outbound(frame: Messages.frame(m), event: true))
        }
        let outcome: Result<JSONValue, AgentError> = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await item in progressStream { await send(item) }
            }
            let outcome: Result<JSONValue, AgentError>
            switch request.body {
            case .apply(let apply): outcome = await operations.apply(apply, requestID: id, progress: progress)
            case .teardown(let topologyID):
                outcome = await operations.teardown(topologyID: topologyID, requestID: id, progress: progress)
            case .state, .ping, .rotateKey:
                outcome = .failure(AgentError(.internal, "not a long-running request"))
            }
            progressSink.finish()
            await group.waitForAll()
            return outcome
        }
        let message: JSONValue
        switch outcome {
        case .success(let body):
            message = Messages.result(id: id, body: body)
            logger.info("succeeded", metadata: ["request_id": "\(id)", "type": "\(request.type.rawValue)"])
        case .failure(let error):
            message = Messages.failure(id: id, error: error)
            logger.error(
                "failed",
                metadata: [
                    "request_id": "\(id)", "type": "\(request.type.rawValue)", "code": "\(error.code)",
                    "error": "\(error.message.prefix(300))",
                ]
            )
        }
        let frame = Messages.frame(message)
        let at = now()
        do {
            _ = try await store.run { try $0.finishRequest(id: id, result: frame, at: at) }
            do {
                _ = try await store.run { try $0.prune(now: at) }
            } catch {
                // Old results stay until the next prune succeeds; this one is stored.
                var metadata: Logger.Metadata = ["request_id": "\(id)", "error": "\(error)"]
                if let topologyID = Self.topologyID(of: request) { metadata["topology_id"] = "\(topologyID)" }
                logger.warning("cannot prune old request results", metadata: metadata)
            }
        } catch {
            logger.error(
                "cannot store the result; retries are answered from memory",
                metadata: [
                    "request_id": "\(id)", "error": "\(error)",
                ]
            )
            if unsaved.count >= 1_000 { unsaved.removeAll() }
            unsaved[id] = frame
        }
        running = nil
        await send(Outbound(frame: frame, event: true))
        onChange()
    }

    /// The topology an apply or teardown is about, when the request names one.
    static func topologyID(of request: Request) -> String? {
        switch request.body {
        case .apply(let apply): return apply.hydrated["topology"]?["id"]?.stringValue
        case .teardown(let topologyID): return topologyID
        case .state, .ping, .rotateKey: return nil
        }
    }

    private func reply(_ message: JSONValue, event: Bool) async {
        await send(Outbound(frame: Messages.frame(message), event: event))
    }
}
