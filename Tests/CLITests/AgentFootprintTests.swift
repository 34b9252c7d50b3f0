import Foundation
import TestSupport
import Testing

@testable import CLISupport

/// What keeps `decnet-agent` small (docs/performance.md, "Memory"): it links FoundationEssentials only, never
/// libFoundation and its ICU data, and the Foundation APIs it replaced behave as before.
@Suite("decnet-agent footprint")
struct AgentFootprintTests {
    @Test func linksNeitherFoundationNorICU() throws {
        let out = try ProcessRunner.run("/usr/bin/ldd", [ProcessRunner.executable("decnet-agent")])
        #expect(out.status == 0)
        let libraries = out.stdoutText
        #expect(libraries.contains("libswiftCore.so"))
        let forbidden = ["libFoundation.so", "libFoundationInternationalization.so", "lib_FoundationICU.so", "libicu"]
        for forbidden in forbidden {
            #expect(!libraries.contains(forbidden), "\(forbidden) is linked")
        }
    }

    @Test func runningAgentMapsNoFoundation() throws {
        // `run` with a bad setting exits at once, after the dynamic loader mapped everything the binary needs.
        let out = try ProcessRunner.run(
            "/usr/bin/env",
            ["LD_DEBUG=libs", ProcessRunner.executable("decnet-agent"), "run", "--agent-id", ".bad"]
        )
        #expect(out.status == 2)
        #expect(out.stderr.contains("calling init: ") && out.stderr.contains("libswiftCore.so"))
        #expect(!out.stderr.contains("libFoundation.so"))
        #expect(!out.stderr.contains("ICU"))
    }

    /// `ISO8601DateFormatter` with fractional seconds, as the JSON log lines were stamped before.
    static var reference: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }

    @Test func logTimestampsMatchISO8601DateFormatter() {
        var generator = SystemRandomNumberGenerator()
        var instants: [(Int, Int)] = [(0, 0), (1, 999_600_000), (951_782_400, 0), (4_102_444_799, 999_999_999)]
        for _ in 0..<2000 {
            let nanoseconds = Int.random(in: 0..<1_000_000_000, using: &generator)
            // Stay clear of half-millisecond ties, where a Double of the instant may round either way.
            guard abs(nanoseconds % 1_000_000 - 500_000) > 20_000 else { continue }
            instants.append((Int.random(in: 0..<4_102_444_800, using: &generator), nanoseconds))
        }
        let reference = Self.reference
        for (seconds, nanoseconds) in instants {
            let date = Date(timeIntervalSince1970: Double(seconds) + Double(nanoseconds) / 1e9)
            #expect(
                JSONLogHandler.timestamp(seconds: seconds, nanoseconds: nanoseconds) == reference.string(from: date),
                "\(seconds).\(nanoseconds)"
            )
        }
    }

    @Test func logTimestampIsNow() throws {
        let stamp = JSONLogHandler.timestamp()
        let parsed = try #require(Self.reference.date(from: stamp), "\(stamp)")
        #expect(abs(parsed.timeIntervalSinceNow) < 5)
        #expect(stamp.utf8.count == 24 && stamp.hasSuffix("Z"))
    }
}
