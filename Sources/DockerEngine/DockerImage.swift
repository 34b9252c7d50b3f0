import DecnetJSON

/// An image as the inspect and list endpoints describe it.
public struct DockerImage: Sendable, Equatable {
    /// `sha256:...`
    public var id: String
    public var repoTags: [String]
    public var labels: [String: String]
    public var size: Int
    /// The whole description, for fields not surfaced above.
    public var raw: JSONValue

    public init(json: JSONValue, operation: String = "image") throws(DockerError) {
        raw = json
        id = try json.dockerRequiredString("Id", in: operation)
        repoTags = json["RepoTags"]?.dockerStrings ?? []
        // Inspect nests labels under Config, list puts them at the top.
        labels = (json["Config"]?["Labels"] ?? json["Labels"])?.dockerStringMap ?? [:]
        size = json["Size"]?.intValue ?? 0
    }
}
