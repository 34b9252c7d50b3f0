import TestSupport

/// The next element of `stream` within `seconds`; throws when the stream ends or the time runs out.
func next<Element: Sendable>(
    _ stream: AsyncStream<Element>,
    within seconds: Double = 10,
    _ what: String
) async throws -> Element {
    let element = try await within(seconds, what) { await stream.first { _ in true } }
    guard let element else { throw TimedOut(what: "\(what) (the stream ended)") }
    return element
}
