import Topology

extension RuntimeFailure {
    /// A Docker failure during `phase`: `unavailable` when the daemon cannot be reached, `failed` otherwise, with
    /// Docker's own message kept verbatim for `details.docker`.
    static func docker(_ error: DockerError, phase: String, _ what: String) -> RuntimeFailure {
        let kind: Kind = error.code == .unavailable ? .unavailable : .failed
        return RuntimeFailure(kind, phase: phase, "\(what): \(error.message)", engineMessage: error.message)
    }
}

/// Runs `body` for every element with at most `limit` at once. After the first failure no new element starts; the
/// running ones finish (so the caller's ledger knows everything that was created), then the first failure is thrown.
func runBounded<Element: Sendable>(
    _ elements: [Element], limit: Int, _ body: @escaping @Sendable (Element) async throws(RuntimeFailure) -> Void
) async throws(RuntimeFailure) {
    guard !elements.isEmpty else { return }
    let failure: RuntimeFailure? = await withTaskGroup(of: RuntimeFailure?.self) { group in
        var next = 0
        var first: RuntimeFailure?
        func add(_ element: Element) {
            group.addTask {
                do throws(RuntimeFailure) {
                    try await body(element)
                    return nil
                } catch {
                    return error
                }
            }
        }
        while next < elements.count && next < max(1, limit) {
            add(elements[next])
            next += 1
        }
        while let result = await group.next() {
            if let result, first == nil { first = result }
            if first == nil && next < elements.count {
                add(elements[next])
                next += 1
            }
        }
        return first
    }
    if let failure { throw failure }
}
