import DecnetJSON

extension DockerClient {
    /// `GET /networks`: every network matching `filters` (the list does not fill in attached containers).
    public func listNetworks(filters: DockerFilters = DockerFilters()) async throws(DockerError) -> [DockerNetwork] {
        let request = DockerRequest(.get, "/networks", query: filters.queryItems)
        let body = try await json(request)
        guard let entries = body.arrayValue else {
            throw DockerError(.protocol, operation: request.operation, message: "expected an array: \(body.jsonText)")
        }
        var networks: [DockerNetwork] = []
        for entry in entries { networks.append(try DockerNetwork(json: entry, operation: request.operation)) }
        return networks
    }

    /// The network whose name is exactly `name` (Docker's own name filter matches substrings), fully inspected;
    /// `nil` when there is none.
    public func network(named name: String) async throws(DockerError) -> DockerNetwork? {
        let candidates = try await listNetworks(filters: .name(name))
        guard let match = candidates.first(where: { JSONString($0.name) == JSONString(name) }) else { return nil }
        do {
            return try await inspectNetwork(match.id)
        } catch  where error.code == .notFound {
            return nil
        }
    }

    /// `GET /networks/{id}`: one network with its attached containers; `notFound` when it does not exist.
    public func inspectNetwork(_ idOrName: String) async throws(DockerError) -> DockerNetwork {
        let request = DockerRequest(.get, DockerRequest.path("networks", idOrName))
        return try DockerNetwork(json: try await json(request), operation: request.operation)
    }

    /// `POST /networks/create`: makes the network and returns its id; `conflict` when the name is taken (with
    /// `checkDuplicate`), `badRequest`/`server` when the subnet overlaps another network.
    @discardableResult
    public func createNetwork(_ spec: DockerNetworkSpec) async throws(DockerError) -> String {
        let request = DockerRequest(.post, "/networks/create", body: .json(spec.body))
        return try await json(request).dockerRequiredString("Id", in: request.operation)
    }

    /// `DELETE /networks/{id}`: `notFound` when it is already gone, `conflict`/`server` while endpoints remain.
    public func removeNetwork(_ idOrName: String) async throws(DockerError) {
        try await discard(DockerRequest(.delete, DockerRequest.path("networks", idOrName)))
    }

    /// `POST /networks/{id}/connect`: attaches a container, optionally at a fixed IPv4 address and with aliases.
    public func connectNetwork(
        _ network: String,
        container: String,
        ipv4Address: String? = nil,
        aliases: [String] = []
    ) async throws(DockerError) {
        var endpoint = JSONObject()
        if let ipv4Address { endpoint["IPAMConfig"] = ["IPv4Address": JSONValue(ipv4Address)] }
        if !aliases.isEmpty { endpoint["Aliases"] = JSONValue(aliases) }
        let body: JSONValue = ["Container": JSONValue(container), "EndpointConfig": .object(endpoint)]
        try await discard(
            DockerRequest(.post, DockerRequest.path("networks", network, "connect"), body: .json(body))
        )
    }

    /// `POST /networks/{id}/disconnect`: detaches a container; `force` also works when the container is gone or
    /// stopped.
    public func disconnectNetwork(_ network: String, container: String, force: Bool = false) async throws(DockerError) {
        let body: JSONValue = ["Container": JSONValue(container), "Force": .bool(force)]
        try await discard(
            DockerRequest(.post, DockerRequest.path("networks", network, "disconnect"), body: .json(body))
        )
    }
}
