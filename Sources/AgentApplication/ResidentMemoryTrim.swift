import Synchronization

/// Gives the code pages the agent touched while busy back to the kernel once it has been quiet for a moment
/// (``ResidentMemory/releaseCleanFilePages()``): after it connects, and after every apply or teardown.
///
/// Pokes are debounced: the release runs `quiet` after the last poke, and not while an operation runs.
final class ResidentMemoryTrim: Sendable {
    let quiet: Duration
    /// What the quiet spell is measured on (tests inject a manual clock).
    let clock: any Clock<Duration>
    private let generation = Mutex(0)
    private let stream: AsyncStream<Void>
    private let sink: AsyncStream<Void>.Continuation

    init(quiet: Duration = .seconds(1), clock: any Clock<Duration> = ContinuousClock()) {
        self.quiet = quiet
        self.clock = clock
        (stream, sink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Something ran (a connection, an operation that started or ended): release again once things are quiet.
    func poke() {
        generation.withLock { $0 += 1 }
        sink.yield()
    }

    /// Releases after each quiet spell until cancelled; `isBusy` says whether an operation runs now, `release` does
    /// the work (the real one by default) and returns the KiB released.
    func run(
        isBusy: @Sendable () async -> Bool,
        release: @Sendable () -> Int = { ResidentMemory.releaseCleanFilePages() },
        released: @Sendable (Int) -> Void = { _ in }
    ) async {
        for await _ in stream {
            let seen = generation.withLock { $0 }
            try? await clock.sleep(for: quiet)
            if Task.isCancelled { break }
            // A newer poke is already queued and will start its own quiet spell.
            guard generation.withLock({ $0 }) == seen else { continue }
            guard !(await isBusy()) else { continue }
            released(release())
        }
    }

    func finish() { sink.finish() }
}
