import DecnetJSON

/// Accumulates issues in order, keeps one MALFORMED per JSON pointer, and stops listing at the issue limit.
struct IssueCollector {
    let limit: Int
    private(set) var issues: [ValidationIssue] = []
    private var malformedPaths: Set<JSONPointer> = []
    /// Set when an issue had to be dropped; long loops check it and stop early.
    private(set) var isTruncated = false

    init(limit: Int) { self.limit = limit }

    mutating func error(_ code: String, _ message: @autoclosure () -> String, target: JSONObject = [:]) {
        guard issues.count < limit else {
            isTruncated = true
            return
        }
        issues.append(ValidationIssue(severity: .error, code: code, message: message(), target: target))
    }

    /// A structural problem where DECNET's Python validator would have raised; reported once per location.
    mutating func malformed(_ path: JSONPointer, _ message: @autoclosure () -> String) {
        guard !malformedPaths.contains(path) else { return }
        guard issues.count < limit else {
            isTruncated = true
            return
        }
        malformedPaths.insert(path)
        let shown = path.text.isEmpty ? "the document" : path.text
        error(
            TopologyValidator.malformedCode,
            "\(shown): \(message())",
            target: ["path": .string(JSONString(path.text))]
        )
    }
}
