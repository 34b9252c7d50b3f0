import DecnetJSON

/// A setting that is missing or wrong, said in one line.
public struct SettingsProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The settings of one command, each read from its flag, else its environment variable, else the JSON config file,
/// else its default: the first source that sets a value wins. An empty variable or an empty string in the file counts
/// as unset; a file key no setting declares is refused.
public struct SettingsTable: Sendable {
    public let settings: [Setting]

    public init(_ settings: [Setting]) {
        self.settings = settings
    }

    /// The sources of one resolution. `flags` maps flag names (without `--`) to the values given; `file` is the
    /// parsed config file, if any.
    public func layers(
        flags: [String: String],
        environment: [String: String],
        file: JSONValue?
    ) throws(SettingsProblem) -> SettingLayers {
        if let file {
            guard let members = file.objectValue else { throw SettingsProblem("config file must hold a JSON object") }
            let known = Set(settings.map(\.file))
            if let unknown = members.keys.first(where: { !known.contains($0.value) }) {
                throw SettingsProblem("config file has an unknown setting '\(unknown.value)'")
            }
        }
        return SettingLayers(flags: flags, environment: environment, file: file)
    }
}

/// The flag, environment and file layers of one resolution, read a setting at a time.
public struct SettingLayers: Sendable {
    let flags: [String: String]
    let environment: [String: String]
    let file: JSONValue?

    /// Where a value came from, to name it in a problem.
    enum Source {
        case flag(String)
        case environment(String)
        case file(String, JSONValue)
    }

    private func source(_ setting: Setting) -> Source? {
        if let value = flags[setting.flag] { return .flag(value) }
        if let value = environment[setting.environment], !value.isEmpty { return .environment(value) }
        guard let value = file?[setting.file] else { return nil }
        if case .string(let s) = value, s.value.isEmpty { return nil }  // "" in the file: not set
        return .file(setting.file, value)
    }

    /// The value as text: a string, or a number in the file.
    public func text(_ setting: Setting) throws(SettingsProblem) -> String? {
        switch source(setting) {
        case nil: return nil
        case .flag(let v), .environment(let v): return v
        case .file(let key, let value):
            switch value {
            case .string(let s): return s.value
            case .integer(let i): return i.description
            case .float(let d): return String(d)
            default: throw SettingsProblem("config file setting '\(key)' must be a string or a number")
            }
        }
    }

    /// The value as text; in the file it must be a string.
    public func string(_ setting: Setting) throws(SettingsProblem) -> String? {
        switch source(setting) {
        case nil: return nil
        case .flag(let v), .environment(let v): return v
        case .file(let key, let value):
            guard let text = value.stringValue else {
                throw SettingsProblem("config file setting '\(key)' must be a string")
            }
            return text
        }
    }

    /// The value as a whole number; in the file it must be a JSON integer.
    public func integer(_ setting: Setting) throws(SettingsProblem) -> Int? {
        switch source(setting) {
        case nil: return nil
        case .flag(let v):
            guard let n = Int(v) else { throw SettingsProblem("--\(setting.flag) '\(v)' must be an integer") }
            return n
        case .environment(let v):
            guard let n = Int(v) else { throw SettingsProblem("\(setting.environment) '\(v)' must be an integer") }
            return n
        case .file(let key, let value):
            guard let n = value.intValue else {
                throw SettingsProblem("config file setting '\(key)' must be an integer")
            }
            return n
        }
    }

    /// The value as a number; in the file it must be a JSON number.
    public func number(_ setting: Setting) throws(SettingsProblem) -> Double? {
        switch source(setting) {
        case nil: return nil
        case .flag(let v):
            guard let d = Double(v) else { throw SettingsProblem("--\(setting.flag) '\(v)' must be a number") }
            return d
        case .environment(let v):
            guard let d = Double(v) else { throw SettingsProblem("\(setting.environment) '\(v)' must be a number") }
            return d
        case .file(let key, let value):
            switch value {
            case .integer: if let n = value.intValue { return Double(n) }
            case .float(let d): return d
            default: break
            }
            throw SettingsProblem("config file setting '\(key)' must be a number")
        }
    }

    /// The value as text, or a problem naming all three places it could come from.
    public func required(_ setting: Setting) throws(SettingsProblem) -> String {
        guard let value = try text(setting) else {
            throw SettingsProblem(
                "missing --\(setting.flag) (or \(setting.environment), or \"\(setting.file)\" in the config file)"
            )
        }
        return value
    }
}
