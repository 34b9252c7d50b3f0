/// A broken invariant found by the fuzz target: printed with the input's size and turned into a crash, so libFuzzer
/// stops and saves the input as `crash-<sha1>`.
enum FuzzInvariant {
    static func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
        if !condition() { fail(message()) }
    }

    static func fail(_ message: String) -> Never {
        fatalError("fuzz-agent invariant broken: \(message)")
    }
}
