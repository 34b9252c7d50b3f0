import DecnetJSON
import DockerEngine
import Hashing
import NIOPosix
import Synchronization
import Topology

/// An image ready on the host: the reference containers are created from, and its id.
struct ResolvedImage: Sendable, Hashable {
    var reference: String
    var id: String
}

extension DockerTopologyRuntime {
    /// Makes every image of the plan present: identical sources (same context and arguments, or same reference) are
    /// resolved once. A missing image that cannot be pulled, a failed build or a missing context is permanent.
    func resolveImages(
        _ plan: ComposePlan,
        progress: @escaping @Sendable (RuntimeProgress) -> Void
    )
        async throws(RuntimeFailure) -> [ContainerSpec.ImageSource: ResolvedImage]
    {
        var sources: [ContainerSpec.ImageSource] = []
        var seen = Set<ContainerSpec.ImageSource>()
        for container in plan.containers where seen.insert(container.image).inserted { sources.append(container.image) }
        let resolved = Mutex<[ContainerSpec.ImageSource: ResolvedImage]>([:])
        let total = sources.count
        progress(RuntimeProgress(phase: .images, done: 0, total: total, message: "resolving \(total) images"))
        try await runBounded(sources, limit: configuration.imageConcurrency) { source throws(RuntimeFailure) in
            let image = try await self.resolve(source)
            let done = resolved.withLock { map -> Int in
                map[source] = image
                return map.count
            }
            progress(RuntimeProgress(phase: .images, done: done, total: total, message: image.reference))
        }
        return resolved.withLock { $0 }
    }

    func resolve(_ source: ContainerSpec.ImageSource) async throws(RuntimeFailure) -> ResolvedImage {
        switch source {
        case .image(let reference):
            return try await present(reference)
        case .build(let context, let args):
            return try await built(context: context, args: args)
        }
    }

    /// An image reference, inspected; when missing, pulled once (no retry: a refused or failed pull is permanent).
    func present(_ reference: String) async throws(RuntimeFailure) -> ResolvedImage {
        do throws(DockerError) {
            if let id = try await imageID(reference) { return ResolvedImage(reference: reference, id: id) }
            try await pull(reference)
            if let id = try await imageID(reference) { return ResolvedImage(reference: reference, id: id) }
            throw DockerError(
                .notFound,
                operation: "POST /images/create",
                message: "No such image: \(reference) (not there after a pull)"
            )
        } catch {
            throw RuntimeFailure(
                error.code == .unavailable ? .unavailable : .failed,
                phase: "images",
                "image \(reference) is not present and cannot be pulled: \(error.message)",
                engineMessage: error.message
            )
        }
    }

    /// Builds a context folder with its arguments, tagged by a hash of both: when that tag exists the build is
    /// skipped, so a re-apply with unchanged templates builds nothing.
    func built(context: String, args: [KeyValue]) async throws(RuntimeFailure) -> ResolvedImage {
        var buildArgs: [String: String] = [:]
        for arg in args { buildArgs[arg.key] = arg.value }
        let archive: (bytes: [UInt8], hash: String)
        do {
            let argumentText = PythonJSONEncoder.canonical.encode(RuntimeLabels.object(buildArgs))
            archive = try await NIOThreadPool.singleton.runIfActive {
                let bytes = try TarWriter.archive(directory: context)
                return (bytes, SHA256.hex(SHA256.digest(bytes) + argumentText))
            }
        } catch let error as DockerError {
            throw RuntimeFailure(
                .failed,
                phase: "images",
                "cannot read the build context \(context): \(error.message)",
                engineMessage: error.message
            )
        } catch {
            throw RuntimeFailure(.failed, phase: "images", "cannot read the build context \(context): \(error)")
        }
        let tag = Self.buildTag(context: context, hash: archive.hash)
        do throws(DockerError) {
            if let id = try await imageID(tag) { return ResolvedImage(reference: tag, id: id) }
            let options = DockerBuildOptions(
                tags: [tag],
                buildArgs: buildArgs,
                labels: [RuntimeLabels.buildContext: context, RuntimeLabels.buildHash: archive.hash]
            )
            let result = try await retrying("build \(tag)") { () async throws(DockerError) in
                try await self.client.buildImage(context: archive.bytes, options: options)
            }
            return ResolvedImage(reference: tag, id: result.imageID)
        } catch {
            throw RuntimeFailure.docker(error, phase: "images", "cannot build \(context)")
        }
    }

    /// The id of a local image, or nil when there is none by that reference.
    func imageID(_ reference: String) async throws(DockerError) -> String? {
        do {
            return try await retrying("inspect image \(reference)") { () async throws(DockerError) in
                try await self.client.inspectImage(reference).id
            }
        } catch  where error.code == .notFound {
            return nil
        }
    }

    /// `POST /images/create`: one pull. Docker reports some failures inside a 200 answer's message stream.
    func pull(_ reference: String) async throws(DockerError) {
        var query: [(name: String, value: String)] = [("fromImage", reference)]
        if !Self.hasTagOrDigest(reference) { query.append(("tag", "latest")) }
        let request = DockerRequest(.post, "/images/create", query: query)
        let response = try await client.send(request)
        for line in response.body.split(separator: UInt8(ascii: "\n")) {
            guard let message = try? JSONParser.parse(Array(line)) else { continue }  // not JSON: carries no error
            if let text = message["errorDetail"]?["message"]?.stringValue ?? message["error"]?.stringValue {
                throw DockerError(.notFound, status: response.status, operation: request.operation, message: text)
            }
        }
    }

    /// `decnet-build/<folder name>:<first 12 hex of the hash>`, the folder name reduced to what a repository allows.
    static func buildTag(context: String, hash: String) -> String {
        let folder = context.split(separator: "/").last.map(String.init) ?? ""
        var name = ""
        for scalar in folder.lowercased().unicodeScalars {
            let allowed = (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9")
            if allowed {
                name.unicodeScalars.append(scalar)
            } else if !name.isEmpty && !name.hasSuffix("-") {
                name += "-"
            }
        }
        while name.hasSuffix("-") { name.removeLast() }
        return "decnet-build/\(name.isEmpty ? "context" : name):\(hash.prefix(12))"
    }

    /// Whether a reference names a tag or digest (`name:tag`, `name@sha256:...`); a port in the registry part
    /// (`host:5000/name`) is not a tag.
    static func hasTagOrDigest(_ reference: String) -> Bool {
        if reference.contains("@") { return true }
        let last = reference.split(separator: "/").last ?? ""
        return last.contains(":")
    }
}
