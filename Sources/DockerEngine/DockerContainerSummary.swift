import DecnetJSON

/// A container as `GET /containers/json` lists it.
public struct DockerContainerSummary: Sendable, Equatable {
    public var id: String
    /// Names without Docker's leading `/`.
    public var names: [String]
    public var image: String
    public var imageID: String
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    public var state: String
    /// Human text such as `Up 3 minutes` or `Exited (0) 2 seconds ago`.
    public var status: String
    public var labels: [String: String]
    /// The whole entry, for fields not surfaced above.
    public var raw: JSONValue

    public init(json: JSONValue, operation: String = "container list") throws(DockerError) {
        raw = json
        id = try json.dockerRequiredString("Id", in: operation)
        names = json["Names"]?.dockerStrings.map(DockerContainer.stripSlash) ?? []
        image = json["Image"]?.stringValue ?? ""
        imageID = json["ImageID"]?.stringValue ?? ""
        state = json["State"]?.stringValue ?? ""
        status = json["Status"]?.stringValue ?? ""
        labels = json["Labels"]?.dockerStringMap ?? [:]
    }

    /// The container's own name (the first one listed; links add more).
    public var name: String { names.first ?? "" }

    public var isRunning: Bool { state == "running" }
}
