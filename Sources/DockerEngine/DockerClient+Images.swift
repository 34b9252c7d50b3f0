import DecnetJSON
import NIOPosix

extension DockerClient {
    /// `GET /images/{name}/json`: `notFound` when the image is not present locally.
    public func inspectImage(_ reference: String) async throws(DockerError) -> DockerImage {
        // Image references contain `/` and `:`, which the daemon's router takes verbatim in this position.
        let request = DockerRequest(
            .get,
            "/images/"
                + reference.split(separator: "/").map { percentEncode(String($0)) }
                .joined(separator: "/") + "/json"
        )
        return try DockerImage(json: try await json(request), operation: request.operation)
    }

    /// `GET /images/json`: local images matching `filters` (`reference`, `label`, `dangling`, ...).
    public func listImages(
        all: Bool = false,
        filters: DockerFilters = DockerFilters()
    ) async throws(DockerError)
        -> [DockerImage]
    {
        let request = DockerRequest(.get, "/images/json", query: [("all", all ? "1" : "0")] + filters.queryItems)
        let body = try await json(request)
        guard let entries = body.arrayValue else {
            throw DockerError(.protocol, operation: request.operation, message: "expected an array: \(body.jsonText)")
        }
        var images: [DockerImage] = []
        for entry in entries { images.append(try DockerImage(json: entry, operation: request.operation)) }
        return images
    }

    /// `DELETE /images/{name}`: untags and removes; `conflict` when a container uses it and `force` is false.
    public func removeImage(_ reference: String, force: Bool = false) async throws(DockerError) {
        let path = "/images/" + reference.split(separator: "/").map { percentEncode(String($0)) }.joined(separator: "/")
        try await discard(DockerRequest(.delete, path, query: [("force", force ? "1" : "0")]))
    }

    /// Builds an image from a directory: archives it with ``TarWriter`` (on NIO's blocking-I/O thread pool, not the
    /// cooperative pool) and sends it to `POST /build`.
    public func buildImage(
        contextDirectory: String,
        options: DockerBuildOptions = DockerBuildOptions()
    )
        async throws(DockerError) -> DockerBuildResult
    {
        let context: [UInt8]
        do {
            context = try await NIOThreadPool.singleton.runIfActive {
                try TarWriter.archive(directory: contextDirectory)
            }
        } catch let error as DockerError {
            throw error
        } catch {
            throw DockerError(.cancelled, operation: "archive build context", message: "\(error)")
        }
        return try await buildImage(context: context, options: options)
    }

    /// `POST /build` with a ready tar archive as context. The daemon answers a stream of JSON messages; an `error`
    /// among them throws `buildFailed` with Docker's message, otherwise the image id comes back. No read timeout; the build deadline (30 minutes by default).
    public func buildImage(
        context: [UInt8],
        options: DockerBuildOptions = DockerBuildOptions()
    )
        async throws(DockerError) -> DockerBuildResult
    {
        let request = DockerRequest(
            .post,
            "/build",
            query: options.queryItems,
            body: .bytes(context, contentType: "application/x-tar"),
            readTimeout: .none,
            deadline: .long
        )
        let response = try await send(request)
        return try Self.parseBuildOutput(response.body, operation: request.operation)
    }

    /// Reads the build's message stream: collects `stream` text, fails on `error`/`errorDetail`, and finds the image
    /// id in `aux.ID` (or, from older daemons, the `Successfully built <id>` line).
    static func parseBuildOutput(_ body: [UInt8], operation: String) throws(DockerError) -> DockerBuildResult {
        var splitter = JSONLineSplitter(maximumLineLength: .max)
        var lines = try splitter.append(body)
        if let last = splitter.finish() { lines.append(last) }
        var log: [String] = []
        var imageID: String?
        for line in lines {
            guard let message = try? JSONParser.parse(line) else {
                throw DockerError(
                    .protocol,
                    status: 200,
                    operation: operation,
                    message: "unreadable build output: \(String(decoding: line.prefix(200), as: UTF8.self))"
                )
            }
            if let detail = message["errorDetail"]?["message"]?.stringValue ?? message["error"]?.stringValue {
                throw DockerError(.buildFailed, status: 200, operation: operation, message: detail)
            }
            if let text = message["stream"]?.stringValue {
                log.append(text)
                let marker = "Successfully built "
                if imageID == nil, let range = text.firstRange(of: marker) {
                    let id = text[range.upperBound...].trimmingWhitespace()
                    if !id.isEmpty { imageID = id }
                }
            }
            if let id = message["aux"]?["ID"]?.stringValue { imageID = id }
        }
        guard let imageID else {
            throw DockerError(
                .protocol,
                status: 200,
                operation: operation,
                message: "the build ended without naming an image"
            )
        }
        return DockerBuildResult(imageID: imageID, log: log)
    }
}
