import DecnetJSON
import NIOCore
import NIOHTTP1
import NIOPosix

/// A client of the Docker Engine API over its unix socket: HTTP/1.1 through NIOHTTP1 on a small pool of keep-alive
/// connections, with the API version negotiated on first use.
///
/// Every method is safe to call concurrently; up to `maximumConnections` requests run in parallel, the rest wait.
/// Call ``shutdown()`` once when done: it closes the connections and the event loop group the client created.
public final class DockerClient: Sendable {
    public let configuration: Configuration
    private let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let pool: ConnectionPool
    private let version = APIVersionCache()

    /// A client for `configuration`; with no `eventLoopGroup` it runs its own single-threaded one.
    public init(configuration: Configuration = Configuration(), eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        let group = eventLoopGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        self.ownsGroup = eventLoopGroup == nil
        let socketPath = configuration.socketPath
        let connectTimeout = TimeAmount.nanoseconds(configuration.connectTimeout.nanosecondsClamped)
        self.pool = ConnectionPool(maximum: max(1, configuration.maximumConnections)) { () async throws(DockerError) in
            try await DockerConnection.connect(group: group, socketPath: socketPath, connectTimeout: connectTimeout)
        }
    }

    /// A client for the daemon `DOCKER_HOST` names (default `/var/run/docker.sock`).
    public convenience init(environment: [String: String]) throws(DockerError) {
        self.init(configuration: try Configuration.fromEnvironment(environment))
    }

    /// Closes every connection (in-flight requests fail with `cancelled`) and the client's own event loop group.
    /// Calling it again does nothing.
    public func shutdown() async throws {
        let first = !pool.shutDown
        pool.shutdown()
        if first && ownsGroup {
            try await group.shutdownGracefully()
        }
    }

    /// The API version in use: the daemon's, capped at ``Configuration/maximumAPIVersion``; negotiated once.
    public func apiVersion() async throws(DockerError) -> DockerAPIVersion {
        try await version.get { () async throws(DockerError) -> DockerAPIVersion in
            let request = DockerRequest(.get, "/version", versioned: false)
            let body = try await self.json(request)
            guard let text = body["ApiVersion"]?.stringValue, let offered = DockerAPIVersion(text) else {
                throw DockerError(
                    .protocol,
                    operation: request.operation,
                    message: "no usable ApiVersion in \(body.jsonText)"
                )
            }
            return try DockerAPIVersion.negotiate(daemon: offered, maximum: self.configuration.maximumAPIVersion)
        }
    }

    /// Sends any request and returns Docker's answer; a non-2xx status throws the matching ``DockerError``.
    public func send(_ request: DockerRequest) async throws(DockerError) -> DockerResponse {
        let response = try await perform(request)
        if let error = response.error(operation: request.operation) { throw error }
        return response
    }

    /// Sends a request and parses its JSON answer.
    func json(_ request: DockerRequest) async throws(DockerError) -> JSONValue {
        try await send(request).json(operation: request.operation)
    }

    /// Sends a request whose answer carries nothing the caller needs.
    func discard(_ request: DockerRequest) async throws(DockerError) {
        _ = try await send(request)
    }

    /// Runs a request on a pooled connection and returns the answer whatever its status.
    ///
    /// A GET that fails on a reused keep-alive connection before any answer is retried once on a fresh one: the
    /// daemon may have closed the idle connection just as we picked it.
    func perform(_ request: DockerRequest) async throws(DockerError) -> DockerResponse {
        let apiVersion = request.versioned ? try await self.apiVersion() : nil
        let (head, body) = makeHead(request, version: apiVersion)
        let timeout = readTimeout(request.readTimeout)
        let limits = exchangeLimits(request)
        var attempt = 0
        while true {
            attempt += 1
            let lease: ConnectionPool.Lease
            do {
                lease = try await pool.lease()
            } catch {
                throw classify(error, request)
            }
            do {
                let response = try await lease.connection.execute(
                    operation: request.operation,
                    head: head,
                    body: body,
                    readTimeout: timeout,
                    limits: limits
                )
                pool.release(lease, reusable: response.keepAlive)
                return response
            } catch {
                pool.release(lease, reusable: false)
                let failure = classify(error, request)
                if failure.code == .unavailable && lease.reused && attempt == 1 && request.method == .get {
                    continue
                }
                throw failure
            }
        }
    }

    /// Opens a dedicated connection and starts a newline-delimited stream; see ``DockerConnection/stream``.
    func openStream(
        _ request: DockerRequest,
        line: @escaping @Sendable ([UInt8]) -> Void,
        end: @escaping @Sendable (DockerError?) -> Void
    ) async throws(DockerError) -> (ConnectionPool.Lease, DockerResponse) {
        let apiVersion = request.versioned ? try await self.apiVersion() : nil
        let (head, _) = makeHead(request, version: apiVersion)
        let lease: ConnectionPool.Lease
        do {
            lease = try await pool.leaseDedicated()
        } catch {
            throw classify(error, request)
        }
        do {
            let response = try await lease.connection.stream(
                operation: request.operation,
                head: head,
                limits: exchangeLimits(request),
                line: line,
                end: end
            )
            if let error = response.error(operation: request.operation) {
                pool.release(lease, reusable: false)
                throw error
            }
            return (lease, response)
        } catch {
            pool.release(lease, reusable: false)
            throw classify(error, request)
        }
    }

    /// Whether ``shutdown()`` has been called (the runtime's observer stops following events then).
    public var isShutDown: Bool { pool.shutDown }

    /// Pool counts for tests and diagnostics (see ``ConnectionPool/statistics``).
    var poolStatistics: (open: Int, idle: Int, dedicated: Int, peakOpen: Int) { pool.statistics }

    func release(_ lease: ConnectionPool.Lease) {
        pool.release(lease, reusable: false)
    }

    /// Turns whatever a request threw into a ``DockerError`` naming the operation; cancellation wins over the
    /// `unavailable` that closing the connection produced.
    func classify(_ error: any Error, _ request: DockerRequest) -> DockerError {
        if pool.shutDown {
            return DockerError(.cancelled, operation: request.operation, message: ConnectionPool.shutdownError.message)
        }
        if Task.isCancelled || error is CancellationError {
            return DockerError(.cancelled, operation: request.operation, message: "the request was cancelled")
        }
        guard var docker = error as? DockerError else {
            return DockerError(.unavailable, operation: request.operation, message: "\(error)")
        }
        if docker.operation.isEmpty || docker.operation.hasPrefix("connect ") {
            docker.operation = request.operation
        }
        return docker
    }

    private func makeHead(_ request: DockerRequest, version: DockerAPIVersion?) -> (HTTPRequestHead, ByteBuffer?) {
        var headers = HTTPHeaders()
        // Over a unix socket there is no host name, but dockerd answers 400 to a request without Host.
        headers.add(name: "Host", value: "docker")
        headers.add(name: "User-Agent", value: "decnet-agent")
        var body: ByteBuffer?
        switch request.body {
        case .empty:
            // SwiftNIO would frame an empty POST as chunked, which /containers/{id}/start rejects.
            if request.method != .get && request.method != .head { headers.add(name: "Content-Length", value: "0") }
        case .json(let value):
            let bytes = PythonJSONEncoder().encode(value)
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(bytes.count))
            body = ByteBuffer(bytes: bytes)
        case .bytes(let bytes, let contentType):
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(bytes.count))
            body = ByteBuffer(bytes: bytes)
        }
        let method = HTTPMethod(rawValue: request.method.rawValue)
        let head = HTTPRequestHead(
            version: .http1_1,
            method: method,
            uri: request.target(version: version),
            headers: headers
        )
        return (head, body)
    }

    private func exchangeLimits(_ request: DockerRequest) -> HTTPExchange.Limits {
        let deadline: Duration
        switch request.deadline {
        case .standard: deadline = configuration.requestTimeout
        case .standardPlus(let extra): deadline = configuration.requestTimeout + extra
        case .long: deadline = configuration.buildTimeout
        }
        return HTTPExchange.Limits(
            deadline: .nanoseconds(deadline.nanosecondsClamped),
            maximumBodyBytes: configuration.maximumResponseBytes,
            maximumLineBytes: configuration.maximumStreamLineBytes
        )
    }

    private func readTimeout(_ policy: DockerRequest.ReadTimeout) -> TimeAmount? {
        switch policy {
        case .none: return nil
        case .standard: return .nanoseconds(configuration.readTimeout.nanosecondsClamped)
        case .standardPlus(let extra): return .nanoseconds((configuration.readTimeout + extra).nanosecondsClamped)
        }
    }
}
