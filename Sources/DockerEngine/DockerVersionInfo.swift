import DecnetJSON

/// What `GET /version` says about the daemon.
public struct DockerVersionInfo: Sendable, Equatable {
    /// The engine release, e.g. `20.10.24+dfsg1`.
    public var version: String
    /// The newest API the daemon speaks.
    public var apiVersion: DockerAPIVersion?
    /// The oldest API the daemon still accepts.
    public var minimumAPIVersion: DockerAPIVersion?
    public var os: String
    public var architecture: String
    public var kernelVersion: String
    /// The whole answer, for fields not surfaced above.
    public var raw: JSONValue

    public init(json: JSONValue) {
        raw = json
        version = json["Version"]?.stringValue ?? ""
        apiVersion = json["ApiVersion"]?.stringValue.flatMap(DockerAPIVersion.init)
        minimumAPIVersion = json["MinAPIVersion"]?.stringValue.flatMap(DockerAPIVersion.init)
        os = json["Os"]?.stringValue ?? ""
        architecture = json["Arch"]?.stringValue ?? ""
        kernelVersion = json["KernelVersion"]?.stringValue ?? ""
    }
}
