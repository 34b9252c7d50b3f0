import DecnetJSON

/// One message of `GET /events`: something happened to a container, network, image or volume.
public struct DockerEvent: Sendable, Equatable {
    /// `container`, `network`, `image`, `volume`, `daemon`, ...
    public var type: String
    /// `create`, `start`, `die`, `stop`, `destroy`, `connect`, `disconnect`, `health_status: healthy`, ...
    public var action: String
    /// The id of the object concerned.
    public var actorID: String
    /// Labels of the object plus event details (`name`, `image`, `exitCode`, `container` for network events).
    public var attributes: [String: String]
    /// Unix time of the event in nanoseconds.
    public var timeNano: Int64
    /// The whole message, for fields not surfaced above.
    public var raw: JSONValue

    public init(json: JSONValue, operation: String = "GET /events") throws(DockerError) {
        guard json.objectValue != nil else {
            throw DockerError(
                .protocol,
                operation: operation,
                message: "an event that is not an object: \(json.jsonText)"
            )
        }
        raw = json
        type = json["Type"]?.stringValue ?? ""
        action = json["Action"]?.stringValue ?? json["status"]?.stringValue ?? ""
        actorID = json["Actor"]?["ID"]?.stringValue ?? json["id"]?.stringValue ?? ""
        attributes = json["Actor"]?["Attributes"]?.dockerStringMap ?? [:]
        if let nano = json["timeNano"]?.integerValue?.int64Value {
            timeNano = nano
        } else {
            timeNano = (json["time"]?.integerValue?.int64Value ?? 0) &* 1_000_000_000
        }
    }

    /// The object's name, when Docker included it (containers, networks, images).
    public var name: String? { attributes["name"] }
}
