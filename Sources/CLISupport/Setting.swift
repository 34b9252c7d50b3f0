/// One setting of a command, declared once: its flag, its environment variable, its config-file key, its help text
/// and its default. Resolution reads them in that order (``SettingsTable``).
public struct Setting: Sendable, Hashable {
    /// The long flag without `--`: `agent-id`.
    public let flag: String
    /// The environment variable: `DECNET_AGENT_ID`.
    public let environment: String
    /// The config file's key: `agent_id`.
    public let file: String
    /// One sentence for `--help`.
    public let help: String
    /// The default as the help text and the docs say it; `nil` when there is none (required, or unset by default).
    public let defaultValue: String?

    /// A setting named like its flag (`agent-id`): the variable is `prefix` + `AGENT_ID`, the file key `agent_id`.
    public init(_ name: String, environmentPrefix prefix: String, help: String, default defaultValue: String? = nil) {
        flag = name
        environment = prefix + name.uppercased().replacing("-", with: "_")
        file = name.replacing("-", with: "_")
        self.help = help
        self.defaultValue = defaultValue
    }

    /// The help text with where else the setting comes from, for `--help`.
    public var optionHelp: String {
        var text = help + " Else $\(environment), else \"\(file)\" in the config file"
        if let defaultValue { text += ", else \(defaultValue)" }
        return text + "."
    }
}
