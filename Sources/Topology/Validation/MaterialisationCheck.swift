import DecnetJSON

/// Refuses, before any Docker call, names that would break Docker object names or escape a file path once the
/// composer uses them (docs/deviations.md#docker-name-safety; DECNET lets Docker fail half-way).
///
/// The composer names a LAN's bridge `decnet_t_<id8>_<lower-cased LAN name>` and a decky's base container
/// `decnet_t_<id8>_<decky name>`, and the decky name is also the container's hostname and part of its service
/// containers' names. Docker accepts object names matching `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. The limits here:
/// * id8 (the id's first 8 code points) must be non-empty, only `[a-zA-Z0-9_.-]`, without `..`;
/// * a LAN or decky name must be a string that starts with `[a-zA-Z0-9]`, continues with `[a-zA-Z0-9_.-]` and
///   contains no `..` (so never `/`, NUL, `.`, `..` or a leading `-` that a command line could take for a flag);
///   a LAN name is checked after Python's full Unicode lower-casing, which is what reaches Docker;
/// * the whole Docker name is at most 128 characters (`maxDockerNameLength`), well inside what the Engine and
///   the kernel's interface-alias and path limits take;
/// * a decky name is at most 63 characters (`maxHostnameLength`): it becomes the hostname, and Linux refuses
///   hostnames over 64 bytes (the 63 of an RFC 1035 label keeps resolvers happy too).
struct MaterialisationCheck {
    static let maxDockerNameLength = 128
    static let maxHostnameLength = 63
    static let idPrefixLength = TopologyNaming.idPrefixLength

    var out: IssueCollector

    init(limit: Int) { out = IssueCollector(limit: limit) }

    mutating func run(_ hydrated: JSONValue) {
        guard case .object(let root) = hydrated else {
            out.malformed(.root, "a topology must be a JSON object, found \(hydrated.typeName)")
            return
        }
        let id8 = topologyPrefix(root)
        // Without a usable id, names are still checked, assuming the longest prefix.
        let prefixLength = TopologyNaming.leadingBytes(idPrefix: id8)
        let lansPath = JSONPointer.root.appending("lans")
        for (i, lan) in objectRows(root["lans"]) {
            let path = lansPath.appending(i).appending("name")
            let raw = lan["name"] ?? .null
            guard case .string(let name) = raw else {
                unsafe(path, raw, "a LAN name must be a string, found \(raw.typeName)")
                continue
            }
            let lowered = PythonText.lower(name.value)
            if let problem = Self.nameProblem(lowered) {
                unsafe(path, raw, "LAN name \(IssueText.quote(raw)) \(problem) once lower-cased for its Docker network")
            } else if prefixLength + lowered.utf8.count > Self.maxDockerNameLength {
                unsafe(
                    path,
                    raw,
                    "LAN name \(IssueText.quote(raw)) makes a Docker network name longer than"
                        + " \(Self.maxDockerNameLength) characters"
                )
            }
            if out.isTruncated { return }
        }
        let deckiesPath = JSONPointer.root.appending("deckies")
        for (i, decky) in objectRows(root["deckies"]) {
            var path = deckiesPath.appending(i)
            var raw = decky["name"] ?? .null
            if case .object(let config) = decky["decky_config"], let configName = config["name"], !configName.isNull {
                path = path.appending("decky_config")
                raw = configName
            }
            path = path.appending("name")
            guard case .string(let name) = raw else {
                unsafe(path, raw, "a decky name must be a string, found \(raw.typeName)")
                continue
            }
            if let problem = Self.nameProblem(name.value) {
                unsafe(path, raw, "decky name \(IssueText.quote(raw)) \(problem)")
            } else if name.value.utf8.count > Self.maxHostnameLength {
                unsafe(
                    path,
                    raw,
                    "decky name \(IssueText.quote(raw)) is longer than the \(Self.maxHostnameLength) characters a"
                        + " hostname may have"
                )
            } else if prefixLength + name.value.utf8.count > Self.maxDockerNameLength {
                unsafe(
                    path,
                    raw,
                    "decky name \(IssueText.quote(raw)) makes a container name longer than"
                        + " \(Self.maxDockerNameLength) characters"
                )
            }
            if out.isTruncated { return }
        }
    }

    /// The topology id's first 8 code points when they are safe in a Docker name, else nil (and an issue).
    private mutating func topologyPrefix(_ root: JSONObject) -> String? {
        let topologyPath = JSONPointer.root.appending("topology")
        guard case .object(let topology) = root["topology"] else {
            out.malformed(topologyPath, "the topology must have a \"topology\" object carrying its id")
            return nil
        }
        let idPath = topologyPath.appending("id")
        guard case .string(let id) = topology["id"], !id.isEmpty else {
            out.malformed(idPath, "the topology id must be a non-empty string")
            return nil
        }
        // The whole id names the topology's labels, its compose file and the teardown request: the wire rule for
        // topology ids (1 to 128 of a-z A-Z 0-9 _ . -, not starting with "."), so what is applied can be torn down.
        let u = id.value.utf8
        guard u.count <= Self.maxTopologyIDLength, u.first != UInt8(ascii: "."), u.allSatisfy(Self.isNameByte) else {
            unsafe(
                idPath,
                .string(id),
                "the topology id must be 1 to \(Self.maxTopologyIDLength) characters of a-z, A-Z, 0-9, \"_\", \".\""
                    + " and \"-\", not starting with \".\" (a teardown request must be able to name it)"
            )
            return nil
        }
        var id8 = String.UnicodeScalarView()
        id8.append(contentsOf: id.value.unicodeScalars.prefix(Self.idPrefixLength))
        let prefix = String(id8)
        guard prefix.utf8.allSatisfy(Self.isNameByte), !prefix.contains("..") else {
            unsafe(
                idPath,
                .string(id),
                "the first \(Self.idPrefixLength) characters of the topology id,"
                    + " \(IssueText.quote(JSONString(prefix))), may only use a-z, A-Z, 0-9, \"_\", \".\" and \"-\","
                    + " and no \"..\""
            )
            return nil
        }
        return prefix
    }

    private mutating func unsafe(_ path: JSONPointer, _ name: JSONValue, _ message: String) {
        out.error(
            TopologyValidator.nameUnsafeCode,
            message,
            target: ["path": .string(JSONString(path.text)), "name": name]
        )
    }

    /// The object rows of a table, with their positions; anything else is `validate`'s to report.
    private func objectRows(_ table: JSONValue?) -> [(Int, JSONObject)] {
        guard case .array(let rows) = table else { return [] }
        return rows.enumerated().compactMap { i, row in row.objectValue.map { (i, $0) } }
    }

    /// Why `name` is not a safe Docker name component, or nil when it is.
    static func nameProblem(_ name: String) -> String? {
        guard let first = name.utf8.first else { return "is empty" }
        guard isAlphanumeric(first) else { return "must start with a letter or digit (a-z, A-Z, 0-9)" }
        guard name.utf8.allSatisfy(isNameByte) else { return "may only contain a-z, A-Z, 0-9, \"_\", \".\" and \"-\"" }
        guard !name.contains("..") else { return "must not contain \"..\"" }
        return nil
    }

    static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    static let maxTopologyIDLength = 128

    static func isNameByte(_ b: UInt8) -> Bool {
        isAlphanumeric(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
    }
}
