import Topology

// The runtime's only way of running work concurrently: structured, bounded, and failure-aware, so a failed step
// never leaves a child task running that the ledger of a materialise call does not know about.

/// Runs `body` for every element with at most `limit` at once. After the first failure no new element starts; the
/// running ones finish (so the caller's ledger knows everything that was created), then the first failure is thrown.
func runBounded<Element: Sendable>(
    _ elements: [Element],
    limit: Int,
    _ body: @escaping @Sendable (Element) async throws(RuntimeFailure) -> Void
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
