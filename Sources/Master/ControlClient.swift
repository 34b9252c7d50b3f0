import AgentProtocol
import DecnetJSON
import Foundation
import ZeroMQ

/// The operator side of the control channel: a DEALER on `ipc://DIR/control.ipc` in a context of its own. Used by
/// `decnet-master agents|apply|teardown|state|watch`, and by tests.
///
/// Requests are re-sent while no answer comes (the master attaches a repeated submit to the request in flight,
/// and the agent answers a repeated id from its store), so a master restart in the middle loses nothing.
public final class ControlClient: Sendable {
    let context: ZMQContext
    let thread: SocketThread
    let socket: SocketHandle

    private init(context: ZMQContext, thread: SocketThread, socket: SocketHandle) {
        self.context = context
        self.thread = thread
        self.socket = socket
    }

    /// Connects to the master serving `directory`; throws ``MasterError/Code/notServing`` when its control socket
    /// does not exist.
    public static func connect(directory: String) async throws(MasterError) -> ControlClient {
        let layout = MasterDirectory(directory)
        guard FileManager.default.fileExists(atPath: layout.controlPath) else {
            throw MasterError(
                .notServing,
                operation: "connect \(layout.controlEndpoint)",
                message: "no master serves \(directory) (start one with: decnet-master serve --dir \(directory))"
            )
        }
        do throws(ZMQError) {
            let context = try ZMQContext(requireCurve: false)
            let thread = try SocketThread(context: context, name: "control-client")
            let endpoint = layout.controlEndpoint
            do throws(ZMQError) {
                let socket = try await thread.open(.dealer, linger: 0) { socket throws(ZMQError) in
                    try socket.setOption(.reconnectIvl, 100)
                    try socket.setOption(.reconnectIvlMax, 1000)
                    try socket.connect(endpoint)
                }
                return ControlClient(context: context, thread: thread, socket: socket)
            } catch {
                await thread.shutdown()
                await context.terminateOffPool()
                throw error
            }
        } catch {
            throw MasterError(.socket, operation: "connect \(layout.controlEndpoint)", message: error.message)
        }
    }

    /// Closes the socket and its context.
    public func close() async {
        await thread.shutdown()
        await context.terminateOffPool()
    }

    func send(_ message: JSONValue) {
        socket.send(ZMQMessage(frames: [ControlMessage.frame(message)]))
    }

    /// One fleet snapshot (the `fleet` message: `agents`, `counters`, `now`).
    public func fleet(timeout: Duration = .seconds(5)) async throws(MasterError) -> JSONObject {
        send(ControlMessage.fleetRequest())
        let result = await receive(until: timeout, resend: nil) { message -> Result<JSONObject, MasterError>? in
            message["type"]?.stringValue == "fleet" ? .success(message) : nil
        }
        return try result.get()
    }

    /// Submits a wire request for `agentID` and waits for the agent's `result` envelope (any status), calling
    /// `onMessage` with every control message on the way (`submitted`, `answer` with accepted/progress). Throws
    /// ``MasterError/Code/timeout`` when no result came within `timeout` (plus a grace for the master's own verdict),
    /// or the master's refusal.
    public func submit(
        agentID: String,
        request: JSONValue,
        timeout: Duration,
        resendEvery: Duration = .seconds(3),
        desire: Bool = false,
        onMessage: @escaping @Sendable (JSONObject) -> Void = { _ in }
    ) async throws(MasterError) -> JSONObject {
        // Every re-send asks for what is left of the one deadline, so re-sends never move it (the master keeps the
        // first deadline of a request anyway).
        let deadline = ContinuousClock.now + timeout
        let submit: @Sendable () -> JSONValue = {
            let left = Int(WireLimits.clampTimeout(MasterCore.milliseconds(deadline - ContinuousClock.now)))
            // A desire records the agent's desired state first (docs/control-channel.md#desire).
            return desire
                ? ControlMessage.desire(agentID: agentID, request: request, timeoutMillis: left)
                : ControlMessage.submit(agentID: agentID, request: request, timeoutMillis: left)
        }
        let requestID = request["id"]?.stringValue
        send(submit())
        let result = await receive(
            until: timeout + .seconds(5),
            resend: (submit, resendEvery),
            onTimeout: MasterError(
                .pending,
                operation: "submit \(requestID ?? "")",
                message: "no verdict from the master in time; the request may still be pending there"
            )
        ) { message -> Result<JSONObject, MasterError>? in
            guard message["id"]?.stringValue == requestID else { return nil }
            switch message["type"]?.stringValue {
            case "control_error":
                var code = message["error"]?["code"]?.stringValue ?? "bad_request"
                let text = message["error"]?["message"]?.stringValue ?? "refused"
                if code == "timeout", message["error"]?["sent"]?.boolValue == true { code = "pending" }
                return .failure(
                    MasterError(MasterError.Code(code), operation: "submit \(requestID ?? "")", message: text)
                )
            case "answer":
                onMessage(message)
                if case .object(let inner)? = message["message"], inner["type"]?.stringValue == "result" {
                    return .success(inner)
                }
                return nil
            default:
                onMessage(message)
                return nil
            }
        }
        return try result.get()
    }

    /// Receives fleet snapshots until `onSnapshot` returns false, renewing the subscription every 10 s.
    public func watch(
        renewEvery: Duration = .seconds(10),
        onSnapshot: @escaping @Sendable (JSONObject) -> Bool
    ) async throws(MasterError) {
        send(ControlMessage.watch())
        let result = await receive(until: .seconds(10 * 365 * 86_400), resend: ({ ControlMessage.watch() }, renewEvery))
        {
            message -> Result<Void, MasterError>? in
            guard message["type"]?.stringValue == "fleet" else { return nil }
            return onSnapshot(message) ? nil : .success(())
        }
        try result.get()
    }

    /// Reads control messages until `handle` returns a verdict, re-sending a message on a period, with a deadline.
    func receive<T: Sendable>(
        until timeout: Duration,
        resend: (message: @Sendable () -> JSONValue, every: Duration)?,
        onTimeout: MasterError = MasterError(
            .timeout,
            operation: "control",
            message: "no answer from the master in time"
        ),
        _ handle: @escaping @Sendable (JSONObject) -> Result<T, MasterError>?
    ) async -> Result<T, MasterError> {
        let messages = socket.messages
        let client = self
        return await withTaskGroup(of: Result<T, MasterError>?.self) { group in
            group.addTask {
                for await message in messages {
                    guard message.frames.count == 1,
                        case .object(let object)? = try? JSONParser.parse(message.frames[0])
                    else { continue }
                    if let verdict = handle(object) { return verdict }
                }
                return nil
            }
            group.addTask {
                let deadline = ContinuousClock.now + timeout
                while ContinuousClock.now < deadline {
                    let step =
                        resend.map { min($0.every, deadline - ContinuousClock.now) } ?? (deadline - ContinuousClock.now)
                    do { try await Task.sleep(for: step) } catch { return nil }
                    if let resend, ContinuousClock.now < deadline { client.send(resend.message()) }
                }
                return .failure(onTimeout)
            }
            defer { group.cancelAll() }
            while let next = await group.next() {
                if let verdict = next { return verdict }
            }
            return .failure(MasterError(.notServing, operation: "control", message: "the control socket closed"))
        }
    }
}
