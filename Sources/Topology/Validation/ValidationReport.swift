import DecnetJSON

/// Everything the validator found in one topology, in DECNET's rule order.
public struct ValidationReport: Sendable {
    public var issues: [ValidationIssue]
    /// True when any issue has severity `error`: the topology must not be applied.
    public var hasErrors: Bool
    /// True when more than `TopologyValidator.issueLimit` issues were found and the rest were not listed (only
    /// absurd inputs get there; it keeps a hostile document from costing gigabytes). A truncated report has errors.
    public var isTruncated: Bool

    public init(issues: [ValidationIssue], isTruncated: Bool = false) {
        self.issues = issues
        self.isTruncated = isTruncated
        self.hasErrors = isTruncated || issues.contains { $0.severity == .error }
    }

    /// The issues of severity `error`.
    public var errors: [ValidationIssue] { issues.filter { $0.severity == .error } }

    /// `{"issues": [...], "has_errors": bool}`, plus `"truncated": true` only when the list was cut.
    public var jsonValue: JSONValue {
        var members: [(JSONString, JSONValue)] = [
            ("issues", .array(issues.map(\.jsonValue))),
            ("has_errors", .bool(hasErrors)),
        ]
        if isTruncated { members.append(("truncated", .bool(true))) }
        return .object(JSONObject(members))
    }
}
