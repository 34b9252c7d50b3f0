import DecnetJSON

/// One finding of the topology validator: DECNET's `ValidationIssue` with our own message wording.
///
/// `code`, `severity` and `target` are the machine contract (the master switches on them and they match DECNET rule
/// for rule); `message` is for people and is never parsed.
public struct ValidationIssue: Sendable, Equatable {
    public enum Severity: String, Sendable {
        case error
        case warning
    }

    public var severity: Severity
    public var code: String
    public var message: String
    /// What the issue is about, with the raw JSON values from the input (an integer IP stays an integer).
    public var target: JSONObject

    public init(severity: Severity = .error, code: String, message: String, target: JSONObject = [:]) {
        self.severity = severity
        self.code = code
        self.message = message
        self.target = target
    }

    /// `{"severity", "code", "message", "target"}` in that member order.
    public var jsonValue: JSONValue {
        let members: [(JSONString, JSONValue)] = [
            ("severity", .string(JSONString(severity.rawValue))),
            ("code", .string(JSONString(code))),
            ("message", .string(JSONString(message))),
            ("target", .object(target)),
        ]
        return .object(JSONObject(members))
    }
}
