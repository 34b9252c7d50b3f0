import Foundation
import TestSupport
import Testing

@testable import AgentApplication

/// Giving clean code pages back when the agent goes idle: what is released, what never is, and the debounce.
@Suite("Resident memory")
struct ResidentMemoryTests {
    @Test func readsItsOwnMappings() throws {
        let mappings = ResidentMemory.mappings()
        let code = try #require(mappings.first { $0.permissions == "r-xp" && $0.path.hasSuffix("libswiftCore.so") })
        #expect(code.end > code.start && code.resident > 0 && code.anonymous == 0)
        #expect(code.isCleanFileMapping)
        #expect(!mappings.contains { $0.path == "[stack]" && $0.isCleanFileMapping })
        let status = try #require(ResidentMemory.status())
        #expect(status.residentKiB > 0 && status.peakKiB >= status.residentKiB)
    }

    @Test func releasesCleanCodeAndTheProcessGoesOn() throws {
        let before = try #require(ResidentMemory.status())
        let released = ResidentMemory.releaseCleanFilePages()
        let after = try #require(ResidentMemory.status())
        #expect(released > 0)
        #expect(after.residentKiB < before.residentKiB)
        // The code runs again from the page cache.
        #expect(ResidentMemory.mappings().contains { $0.isCleanFileMapping })
        #expect(JSONEncoderCheck.roundTrip(["a": [1, 2, 3]]) == ["a": [1, 2, 3]])
    }

    /// A private mapping of a file whose pages were written (as relocation writes RELRO) keeps what was written.
    @Test func writtenPrivatePagesAreNeverReleased() throws {
        let path = NSTemporaryDirectory() + "resident-\(UUID().uuidString)"
        let size = 64 * 1024
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x41, count: size)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let raw = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        let base = try #require(raw == MAP_FAILED ? nil : raw)
        defer { munmap(base, size) }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        bytes[0] = 0x42
        bytes[size - 1] = 0x43
        #expect(mprotect(base, size, PROT_READ) == 0)
        let mapping = try #require(ResidentMemory.mappings().first { $0.start == UInt(bitPattern: base) })
        #expect(mapping.permissions == "r--p" && mapping.anonymous ?? 0 > 0 && !mapping.isCleanFileMapping)
        ResidentMemory.releaseCleanFilePages()
        #expect(bytes[0] == 0x42 && bytes[1] == 0x41 && bytes[size - 1] == 0x43)
    }

    /// The debounce on a manual clock: a burst of pokes is one release, a full quiet spell after the last one; while
    /// an operation runs nothing is released. Every step waits for what the loop did (slept again, asked whether it
    /// is busy, released), so a "not yet" is never a guess.
    @Test func idleTrimWaitsForQuietAndSkipsBusySpells() async throws {
        let clock = ManualClock()
        let quiet = Duration.seconds(1)
        let trim = ResidentMemoryTrim(quiet: quiet, clock: clock)
        let busy = Locked(false)
        // What the loop did, as a stream to await and as a list to look at once the loop sleeps again.
        let (events, sink) = AsyncStream<String>.makeStream()
        let done = Locked<[String]>([])
        let note = { @Sendable (event: String) in
            done.withLock { $0.append(event) }
            sink.yield(event)
        }
        let task = Task {
            await trim.run(
                isBusy: {
                    note("busy? \(busy.value)")
                    return busy.value
                },
                release: { 1 },
                released: { note("released \($0)") }
            )
        }
        defer { task.cancel() }
        var log = events.makeAsyncIterator()

        trim.poke()
        try await clock.waitForSleepers(1)
        // More pokes during the quiet spell: the spell that ends does nothing, a new one starts from now.
        for _ in 0..<4 { trim.poke() }
        clock.advance(by: quiet - .milliseconds(1))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .milliseconds(1))
        try await clock.waitForSleepers(1)
        // Asleep again for a new spell, and between the two it neither asked nor released.
        #expect(clock.deadlines == [clock.now.advanced(by: quiet)])
        #expect(done.value.isEmpty)
        clock.advance(by: quiet)
        #expect(await log.next() == "busy? false")
        #expect(await log.next() == "released 1")

        // While an operation runs, the spell ends without a release: the loop asked, and was told it is busy.
        busy.withLock { $0 = true }
        trim.poke()
        try await clock.waitForSleepers(1)
        clock.advance(by: quiet)
        #expect(await log.next() == "busy? true")
        busy.withLock { $0 = false }
        trim.poke()
        try await clock.waitForSleepers(1)
        clock.advance(by: quiet)
        #expect(await log.next() == "busy? false")
        #expect(await log.next() == "released 1")
        trim.finish()
        await task.value
        sink.finish()
        #expect(await log.next() == nil)
        #expect(clock.sleepsStarted == 4)
    }
}

/// Some Foundation work after the release, to run code whose pages were just dropped.
enum JSONEncoderCheck {
    static func roundTrip(_ value: [String: [Int]]) -> [String: [Int]]? {
        guard let data = try? JSONEncoder().encode(value) else { return nil }
        return try? JSONDecoder().decode([String: [Int]].self, from: data)
    }
}
