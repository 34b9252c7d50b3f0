import DecnetJSON

/// Query options of `POST /build` (the classic builder's; BuildKit is not used).
public struct DockerBuildOptions: Sendable, Equatable {
    /// `name:tag` references to give the image (`t`, repeatable).
    public var tags: [String]
    /// Path of the Dockerfile inside the context.
    public var dockerfile: String
    /// `ARG` values (`buildargs`).
    public var buildArgs: [String: String]
    /// Labels set on the image (`labels`).
    public var labels: [String: String]
    /// Remove intermediate containers after a successful build (`rm`).
    public var removeIntermediate: Bool
    /// Remove intermediate containers even when the build fails (`forcerm`).
    public var forceRemoveIntermediate: Bool
    public var noCache: Bool

    public init(
        tags: [String] = [],
        dockerfile: String = "Dockerfile",
        buildArgs: [String: String] = [:],
        labels: [String: String] = [:],
        removeIntermediate: Bool = true,
        forceRemoveIntermediate: Bool = true,
        noCache: Bool = false
    ) {
        self.tags = tags
        self.dockerfile = dockerfile
        self.buildArgs = buildArgs
        self.labels = labels
        self.removeIntermediate = removeIntermediate
        self.forceRemoveIntermediate = forceRemoveIntermediate
        self.noCache = noCache
    }

    var queryItems: [(name: String, value: String)] {
        var items: [(name: String, value: String)] = tags.map { ("t", $0) }
        items.append(("dockerfile", dockerfile))
        if !buildArgs.isEmpty { items.append(("buildargs", DockerNetworkSpec.stringObject(buildArgs).jsonText)) }
        if !labels.isEmpty { items.append(("labels", DockerNetworkSpec.stringObject(labels).jsonText)) }
        items.append(("rm", removeIntermediate ? "1" : "0"))
        items.append(("forcerm", forceRemoveIntermediate ? "1" : "0"))
        if noCache { items.append(("nocache", "1")) }
        return items
    }
}

/// The outcome of a successful build.
public struct DockerBuildResult: Sendable, Equatable {
    /// `sha256:...` of the built image.
    public var imageID: String
    /// The builder's text output (`stream` messages), in order.
    public var log: [String]
}
