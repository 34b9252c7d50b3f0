import DecnetJSON
import Topology

#if canImport(Glibc)
import Glibc
#endif

/// Where a `files` knob may point on this host (docs/reliability.md, "A hostile or broken host"). The knob bind-mounts
/// a host folder read-only into an attacker-facing container, so on the agent's apply path (not in `validate` or
/// `compose`, which stay equal to DECNET) a path is refused unless, with symlinks resolved (the real path of its
/// longest existing prefix), it lies inside `root`; and whatever the root, it must neither be, contain nor lie inside
/// a protected path (the agent's key folder, its state folder, the Docker socket). Issue code `FILES_OUTSIDE_ROOT`,
/// target `{"path", "name"}` like `NAME_UNSAFE`'s.
public struct FilesConfinement: Sendable, Equatable {
    public static let outsideRootCode = "FILES_OUTSIDE_ROOT"
    /// Not under the default state directory (`/var/lib/decnet-agent`), which is protected whatever the root.
    public static let defaultRoot = "/srv/decnet-agent/files"
    /// Docker's usual sockets, protected even when `DOCKER_HOST` names another one.
    public static let dockerSockets = ["/var/run/docker.sock", "/run/docker.sock"]

    public var root: String
    public var protectedPaths: [String]

    public init(root: String = Self.defaultRoot, protectedPaths: [String]) {
        self.root = root
        self.protectedPaths = protectedPaths
    }

    /// One issue per `files` knob of `hydrated` that points where it may not; `catalog` says which knobs mount.
    public func issues(_ hydrated: JSONValue, catalog: ServiceCatalog) -> [ValidationIssue] {
        let realRoot = Self.resolve(root)
        let protected = (protectedPaths + Self.dockerSockets).map(Self.resolve)
        var issues: [ValidationIssue] = []
        for (index, decky) in (hydrated["deckies"]?.arrayValue ?? []).enumerated() {
            guard let services = decky["services"]?.arrayValue, case .object(let config)? = decky["decky_config"]
            else { continue }
            for service in services.compactMap(\.stringValue) {
                guard let definition = catalog.service(named: service) else { continue }
                for rule in definition.environment {
                    guard case .mountDirectory(let knob, _) = rule.kind,
                        let value = config["service_config"]?[service]?[knob]?.stringValue
                    else { continue }
                    let path =
                        "/deckies/\(index)/decky_config/service_config/\(Self.escaped(service))/"
                        + Self.escaped(knob)
                    let real = Self.resolve(value)
                    guard let problem = Self.problem(real, root: realRoot, protected: protected) else { continue }
                    issues.append(
                        ValidationIssue(
                            code: Self.outsideRootCode,
                            message: "files \"\(value)\" (really \(real)) \(problem)",
                            target: ["path": .string(JSONString(path)), "name": .string(JSONString(value))]
                        )
                    )
                }
            }
        }
        return issues
    }

    /// Why `real` may not be mounted, or nil.
    static func problem(_ real: String, root: String, protected: [String]) -> String? {
        if let hit = protected.first(where: { Self.isInside(real, $0) || Self.isInside($0, real) }) {
            return "would expose \(hit), which the agent protects whatever the files root"
        }
        guard Self.isInside(real, root) else { return "is not inside the agent's files root \(root)" }
        return nil
    }

    /// Whether `path` is `folder` or lies below it (both absolute and normalised).
    static func isInside(_ path: String, _ folder: String) -> Bool {
        folder == "/" || path == folder || path.hasPrefix(folder + "/")
    }

    /// `path` cleaned up lexically (`.`, `..`, `//`, as the composer writes the mount), then the real path of its
    /// longest existing prefix with the rest appended: what the kernel would mount if nothing changes before Docker
    /// does.
    public static func resolve(_ path: String) -> String {
        var parts: [String] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(String(part)) }
        }
        var rest: [String] = []
        while true {
            let candidate = "/" + parts.joined(separator: "/")
            if let real = realpath(candidate, nil) {
                defer { free(real) }
                let components = String(cString: real).split(separator: "/").map(String.init) + rest
                return "/" + components.joined(separator: "/")
            }
            guard let last = parts.popLast() else { return "/" }
            rest.insert(last, at: 0)
        }
    }

    private static func escaped(_ key: String) -> String {
        key.replacing("~", with: "~0").replacing("/", with: "~1")
    }
}
