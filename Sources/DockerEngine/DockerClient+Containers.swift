import DecnetJSON

extension DockerClient {
    /// What `POST /containers/create` answered.
    public struct CreatedContainer: Sendable, Equatable {
        public var id: String
        public var warnings: [String]
    }

    /// What `POST /containers/{id}/wait` answered once the container stopped.
    public struct WaitResult: Sendable, Equatable {
        public var statusCode: Int
        /// Docker's error while waiting, if it had one.
        public var errorMessage: String?
    }

    /// `GET /containers/json`: running containers, or all of them with `all`, matching `filters` (`label`, `name`
    /// (substring), `status`, `network`, ...).
    public func listContainers(
        all: Bool = false,
        filters: DockerFilters = DockerFilters()
    ) async throws(DockerError)
        -> [DockerContainerSummary]
    {
        let request = DockerRequest(.get, "/containers/json", query: [("all", all ? "1" : "0")] + filters.queryItems)
        let body = try await json(request)
        guard let entries = body.arrayValue else {
            throw DockerError(.protocol, operation: request.operation, message: "expected an array: \(body.jsonText)")
        }
        var containers: [DockerContainerSummary] = []
        for entry in entries {
            containers.append(try DockerContainerSummary(json: entry, operation: request.operation))
        }
        return containers
    }

    /// The container whose name is exactly `name`, inspected; `nil` when there is none.
    public func container(named name: String) async throws(DockerError) -> DockerContainer? {
        do {
            let container = try await inspectContainer(name)
            // Inspect also resolves id prefixes: make sure it is the name that matched.
            return JSONString(container.name) == JSONString(name) ? container : nil
        } catch  where error.code == .notFound {
            return nil
        }
    }

    /// `GET /containers/{id}/json`: `notFound` when there is no such container.
    public func inspectContainer(_ idOrName: String) async throws(DockerError) -> DockerContainer {
        let request = DockerRequest(.get, DockerRequest.path("containers", idOrName, "json"))
        return try DockerContainer(json: try await json(request), operation: request.operation)
    }

    /// `POST /containers/create?name=`: creates a container from Docker's own create body (`Image`, `Cmd`,
    /// `Labels`, `HostConfig`, `NetworkingConfig`, ...); `conflict` when the name is taken, `notFound` when the
    /// image is missing.
    public func createContainer(name: String?, body: JSONValue) async throws(DockerError) -> CreatedContainer {
        let query: [(name: String, value: String)] = name.map { [("name", $0)] } ?? []
        let request = DockerRequest(.post, "/containers/create", query: query, body: .json(body))
        let answer = try await json(request)
        return CreatedContainer(
            id: try answer.dockerRequiredString("Id", in: request.operation),
            warnings: answer["Warnings"]?.dockerStrings ?? []
        )
    }

    /// `POST /containers/{id}/start`: `notModified` when it already runs.
    public func startContainer(_ idOrName: String) async throws(DockerError) {
        try await discard(DockerRequest(.post, DockerRequest.path("containers", idOrName, "start")))
    }

    /// `POST /containers/{id}/stop?t=`: SIGTERM, then SIGKILL after `timeout` seconds (Docker's default 10 when
    /// nil); `notModified` when it was not running. The read timeout is stretched by the grace period.
    public func stopContainer(_ idOrName: String, timeout: Int? = nil) async throws(DockerError) {
        let query: [(name: String, value: String)] = timeout.map { [("t", String($0))] } ?? []
        let grace = Duration.seconds(timeout ?? 10)
        try await discard(
            DockerRequest(
                .post,
                DockerRequest.path("containers", idOrName, "stop"),
                query: query,
                readTimeout: .standardPlus(grace),
                deadline: .standardPlus(grace)
            )
        )
    }

    /// `POST /containers/{id}/kill?signal=`: `conflict` when it is not running.
    public func killContainer(_ idOrName: String, signal: String? = nil) async throws(DockerError) {
        let query: [(name: String, value: String)] = signal.map { [("signal", $0)] } ?? []
        try await discard(DockerRequest(.post, DockerRequest.path("containers", idOrName, "kill"), query: query))
    }

    /// `DELETE /containers/{id}?force=&v=`: `force` kills a running container first, `volumes` drops its anonymous
    /// volumes; `notFound` when it is already gone, `conflict` when it runs and `force` is false.
    public func removeContainer(
        _ idOrName: String,
        force: Bool = false,
        volumes: Bool = false
    )
        async throws(DockerError)
    {
        try await discard(
            DockerRequest(
                .delete,
                DockerRequest.path("containers", idOrName),
                query: [("force", force ? "1" : "0"), ("v", volumes ? "1" : "0")]
            )
        )
    }

    /// `POST /containers/{id}/wait?condition=`: blocks until the container reaches `condition` (`not-running`,
    /// `next-exit`, `removed`) and returns its exit status. No read timeout, and the long (build) deadline: cancel the task to give up sooner.
    public func waitContainer(
        _ idOrName: String,
        condition: String = "not-running"
    ) async throws(DockerError)
        -> WaitResult
    {
        let request = DockerRequest(
            .post,
            DockerRequest.path("containers", idOrName, "wait"),
            query: [("condition", condition)],
            readTimeout: .none,
            deadline: .long
        )
        let answer = try await json(request)
        guard let code = answer["StatusCode"]?.intValue else {
            throw DockerError(.protocol, operation: request.operation, message: "no StatusCode in \(answer.jsonText)")
        }
        let message = answer["Error"]?["Message"]?.stringValue
        return WaitResult(statusCode: code, errorMessage: message.flatMap { $0.isEmpty ? nil : $0 })
    }
}
