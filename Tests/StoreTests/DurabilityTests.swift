import DecnetJSON
import Foundation
import Testing

@testable import AgentStore

/// Durability (kill -9 during writes) and environment failures (full or read-only disk) that must surface as a
/// thrown `StoreError`, run through `store-crash-helper` in a separate process.
@Suite("Durability and environment failures", .serialized)
struct DurabilityTests {
    /// What the helper's `loop` mode writes for sequence number `seq` (kept in step with its `loopBlob`).
    static func loopBlob(_ seq: Int) -> [UInt8] {
        let value: JSONValue = [
            "seq": JSONValue(seq), "big": .integer(JSONInteger(decimal: "123456789012345678901234567890")!),
            "one": 1.0, "name": JSONValue("décor-\(seq)"),
        ]
        return PythonJSONEncoder().encode(value)
    }

    /// The helper loops over put / recordAttempt / beginRequest / finishRequest and prints each committed step; we
    /// kill it with SIGKILL at a random moment and check every printed write survived and the file is intact.
    @Test(arguments: [37, 211, 503, 1_009, 2_003])
    func killDuringWritesLosesNothingCommitted(commits: Int) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let helper = try HelperProcess(["loop", dir.database])
        var printed: [(seq: Int, op: String)] = []
        while printed.count < commits, let line = helper.readLine() {
            let json = try JSONParser.parse(line)
            printed.append((try #require(json["seq"]?.intValue), try #require(json["op"]?.stringValue)))
        }
        try #require(printed.count == commits, "the helper stopped early")
        helper.kill9()
        for line in helper.remainingLines() {
            let json = try JSONParser.parse(line)
            printed.append((try #require(json["seq"]?.intValue), try #require(json["op"]?.stringValue)))
        }
        #expect(helper.process.terminationReason == .uncaughtSignal)
        let last = try #require(printed.last?.seq)
        #expect(printed.map(\.seq) == Array(1...last))

        let store = try TopologyStore(path: dir.database, now: 999_999)
        #expect(try store.integrityCheck() == ["ok"])
        // The applied and attempt rows are what the printed writes leave (a put also clears the attempt), or what
        // the one write after them leaves: it may have committed just before the kill without being printed.
        let printedState = LoopState(after: printed.map(\.seq))
        let oneMore = LoopState(after: printed.map(\.seq) + [last + 1])
        let found = LoopState(
            put: try store.current().map { row in
                #expect(PythonJSONEncoder().encode(row.hydrated) == Self.loopBlob(Int(row.appliedAt)))
                #expect(row.versionHash == "hash-\(row.appliedAt)")
                return Int(row.appliedAt)
            },
            attempt: try store.lastAttempt().map { attempt in
                #expect(attempt.versionHash == "attempt-\(attempt.at)" && attempt.error == "e\(attempt.at)")
                return Int(attempt.at)
            }
        )
        #expect(found == printedState || found == oneMore, "found \(found), printed \(printedState)")
        // Every printed request is there; every printed finish kept its result; nothing is left running.
        let finished = Set(printed.filter { $0.op == "finish" }.map { $0.seq - 1 })
        for begun in printed.filter({ $0.op == "begin" }).map(\.seq) {
            let found = try store.beginRequest(id: "r\(begun)", fingerprint: "f\(begun)", type: "apply", at: 1)
            switch found {
            case .finished(let bytes): #expect(bytes == Array(#"{"seq":\#(begun + 1)}"#.utf8))
            // Only a finish that was not printed (the kill came before its commit returned) may be missing.
            case .interrupted(let at):
                #expect(!finished.contains(begun) && at == 999_999, "r\(begun) is interrupted at \(at)")
            default: Issue.record("r\(begun) is \(found)")
            }
        }
        let raw = try RawDatabase(dir.database)
        #expect(try raw.int("SELECT count(*) FROM request WHERE status = 'running'") == 0)
        #expect(try raw.int("SELECT count(*) FROM request") >= Int64(printed.filter { $0.op == "begin" }.count))
    }

    /// A file size limit (RLIMIT_FSIZE, so write(2) fails with EFBIG) stands in for a full disk on any machine:
    /// the failing put throws, the earlier state stays readable and intact, and the process does not trap.
    @Test func fileSizeLimitThrows() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let helper = try HelperProcess(["fill", dir.database, "300000"])
        let report = try helper.readJSON()
        #expect(helper.wait() == 0)
        #expect(report["phase"] == "full", "\(report.jsonText)")
        let code = report["error"]?["code"]?.stringValue
        #expect(code == "io" || code == "disk_full", "\(report.jsonText)")
        let writes = try #require(report["writes"]?.intValue)
        #expect(writes > 0)
        #expect(report["current"]?.stringValue == "h\(writes)")
        #expect(report["integrity"] == "ok")
        let store = try TopologyStore(path: dir.database)
        #expect(try store.current()?.versionHash == "h\(writes)")
        #expect(try store.integrityCheck() == ["ok"])
    }

    /// A real full disk: a 256 KiB tmpfs in a private mount namespace. The put throws `diskFull`
    /// (`SQLITE_FULL`), and the store still reads its last committed state.
    @Test(.enabled(if: privateMountsAvailable, "needs unshare -rm and tmpfs mounts"))
    func fullDiskThrowsDiskFull() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let script = #"mount -t tmpfs -o size=256k tmpfs "$1" && exec "$2" fill "$1/agent.db""#
        let helper = try HelperProcess(
            ["-rm", "/bin/sh", "-c", script, "sh", dir.path, HelperProcess.executable],
            executable: "/usr/bin/unshare"
        )
        let report = try helper.readJSON()
        #expect(helper.wait() == 0)
        #expect(report["phase"] == "full", "\(report.jsonText)")
        #expect(report["error"]?["code"] == "disk_full", "\(report.jsonText)")
        #expect(report["error"]?["sqlite"] == 13)
        let writes = try #require(report["writes"]?.intValue)
        #expect(writes > 0)
        #expect(report["current"]?.stringValue == "h\(writes)")
        #expect(report["integrity"] == "ok")
    }

    /// A read-only file system: opening for writing throws `readOnly` at open (not at the first write), a state
    /// directory that would have to be created throws `readOnly`, and read-only access to a WAL file without its
    /// `-shm` throws too (SQLite needs that file).
    @Test(.enabled(if: privateMountsAvailable, "needs unshare -rm and tmpfs mounts"))
    func readOnlyFileSystemThrowsReadOnly() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let script = #"""
            mount -t tmpfs -o size=1m tmpfs "$1" && "$2" seed "$1/agent.db" && mount -o remount,ro "$1" &&
            "$2" open "$1/agent.db" rw && "$2" opendir "$1/new-state" && "$2" open "$1/agent.db" ro
            """#
        let helper = try HelperProcess(
            ["-rm", "/bin/sh", "-c", script, "sh", dir.path, HelperProcess.executable],
            executable: "/usr/bin/unshare"
        )
        let lines = helper.remainingLines().map { try? JSONParser.parse($0) }
        #expect(helper.wait() == 0)
        try #require(lines.count == 4, "\(lines)")
        #expect(lines[0]?["seed"] == "ok")
        #expect(lines[1]?["open"] == "read_only", "\(lines[1]?.jsonText ?? "")")
        #expect(lines[2]?["open"] == "read_only", "\(lines[2]?.jsonText ?? "")")
        #expect(lines[2]?["error"]?["errno"] == .integer(JSONInteger(Int(EROFS))))
        #expect(lines[3]?["open"] == "io", "\(lines[3]?.jsonText ?? "")")
    }

    /// The applied and attempt rows the helper's `loop` leaves after the writes numbered `seqs`.
    struct LoopState: Equatable, CustomStringConvertible {
        var put: Int?
        var attempt: Int?

        init(put: Int?, attempt: Int?) {
            self.put = put
            self.attempt = attempt
        }

        init(after seqs: [Int]) {
            for seq in seqs {
                switch seq % 4 {
                case 0: (put, attempt) = (seq, nil)
                case 1: attempt = seq
                default: break
                }
            }
        }

        var description: String {
            "put \(put.map(String.init) ?? "none"), attempt \(attempt.map(String.init) ?? "none")"
        }
    }
}
