import DecnetJSON

/// DECNET's pre-deploy topology validator: the 14 seed rules, in their order, with their codes, severities and
/// targets, plus MALFORMED where DECNET's Python would crash (docs/deviations.md#malformed-issues).
///
/// `validate` is rule-for-rule DECNET's `validate()`; `materialisationIssues` is our extra refusal of names that
/// would break Docker object names or file paths, kept separate so the CLI can still show DECNET's verdict alone.
public struct TopologyValidator: Sendable {
    /// The 14 issue codes of DECNET's `validate()`, in rule order; all have severity `error`.
    public static let ruleCodes: [String] = [
        "DMZ_MISSING", "DMZ_MULTIPLE", "DMZ_ORPHAN", "DECKY_ORPHAN", "LAN_NAME_DUP", "DECKY_NAME_DUP",
        "IP_UNKNOWN_LAN", "IP_OUT_OF_SUBNET", "IP_MALFORMED", "IP_COLLISION", "SUBNET_MALFORMED", "SUBNET_OVERLAP",
        "UNKNOWN_SERVICE", "SERVICE_CFG_UNDECLARED",
    ]
    /// A structural problem where DECNET would have raised; `target` is `{"path": <RFC 6901 pointer>}`.
    public static let malformedCode = "MALFORMED"
    /// A decky, LAN or topology id that would not make a safe Docker name; `target` is `{"path", "name"}`.
    public static let nameUnsafeCode = "NAME_UNSAFE"
    /// At most this many issues are listed; a report that would have more says `isTruncated`
    /// (docs/deviations.md#issue-cap). A sane topology is
    /// nowhere near it, and at a few hundred bytes an issue the full list still fits one wire envelope.
    public static let issueLimit = 10_000

    private let known: Set<PyKey>

    /// - Parameter knownServices: the catalog's service names that are not fleet singletons (DECNET's
    ///   `all_service_names()`); anything else in a decky's `services` is UNKNOWN_SERVICE.
    public init(knownServices: Set<JSONString>) {
        known = Set(knownServices.map(PyKey.init(string:)))
    }

    /// Runs every rule over a hydrated topology and collects all issues; never stops at the first, never traps.
    public func validate(_ hydrated: JSONValue) -> ValidationReport {
        guard case .object(let root) = hydrated else {
            var out = IssueCollector(limit: Self.issueLimit)
            out.malformed(.root, "a topology must be a JSON object, found \(hydrated.typeName)")
            return ValidationReport(issues: out.issues)
        }
        var run = ValidationRun(root: root, known: known, limit: Self.issueLimit)
        run.run()
        return ValidationReport(issues: run.out.issues, isTruncated: run.out.isTruncated)
    }

    /// Names the composer would turn into Docker object names or paths and that are unsafe there: the topology id's
    /// first 8 characters, every LAN name (lower-cased) and every decky name (`decky_config.name`, else the row
    /// name). See `MaterialisationCheck` for the exact limits. Structure is `validate`'s business: rows that are
    /// not objects are skipped here, so run this only on a topology `validate` accepted.
    public func materialisationIssues(_ hydrated: JSONValue) -> [ValidationIssue] {
        var check = MaterialisationCheck(limit: Self.issueLimit)
        check.run(hydrated)
        return check.out.issues
    }
}
