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

    @Test func idleTrimWaitsForQuietAndSkipsBusySpells() async throws {
        let trim = ResidentMemoryTrim(quiet: .milliseconds(150))
        let releases = Locked(0)
        let busy = Locked(false)
        let task = Task {
            await trim.run(
                isBusy: { busy.value },
                release: {
                    releases.withLock { $0 += 1 }
                    return 1
                }
            )
        }
        defer { task.cancel() }
        // A burst of pokes is one release, a quiet spell after the last one.
        for _ in 0..<5 {
            trim.poke()
            try await Task.sleep(for: .milliseconds(40))
        }
        #expect(releases.value == 0)
        try await waitUntil { releases.value == 1 }
        try await Task.sleep(for: .milliseconds(400))
        #expect(releases.value == 1)
        // While an operation runs, nothing is released.
        busy.withLock { $0 = true }
        trim.poke()
        try await Task.sleep(for: .milliseconds(450))
        #expect(releases.value == 1)
        busy.withLock { $0 = false }
        trim.poke()
        try await waitUntil { releases.value == 2 }
        trim.finish()
        await task.value
    }

    func waitUntil(_ condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            try #require(ContinuousClock.now < deadline, "timed out")
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Some Foundation work after the release, to run code whose pages were just dropped.
enum JSONEncoderCheck {
    static func roundTrip(_ value: [String: [Int]]) -> [String: [Int]]? {
        guard let data = try? JSONEncoder().encode(value) else { return nil }
        return try? JSONDecoder().decode([String: [Int]].self, from: data)
    }
}
