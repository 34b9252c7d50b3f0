import DecnetJSON

extension DockerClient {
    /// `GET /_ping`: true when the daemon answers `OK`. Needs no version negotiation, so it is the cheapest way to
    /// see whether Docker is there; an unreachable socket throws `unavailable`.
    public func ping() async throws(DockerError) -> Bool {
        let request = DockerRequest(.get, "/_ping", versioned: false)
        let response = try await send(request)
        return String(decoding: response.body, as: UTF8.self).hasPrefix("OK")
    }

    /// `GET /version`: the daemon's release and API range.
    public func version() async throws(DockerError) -> DockerVersionInfo {
        DockerVersionInfo(json: try await json(DockerRequest(.get, "/version")))
    }

    /// `GET /info`: system-wide facts (counts, storage driver, cgroup setup), as Docker sends them.
    public func info() async throws(DockerError) -> JSONValue {
        try await json(DockerRequest(.get, "/info"))
    }
}
