import AgentApplication
import DecnetJSON
import Foundation
import TestSupport
import Testing

/// Runs the built `decnet-agent` over every shipped vector, as an operator would.
@Suite("decnet-agent operator commands")
struct AgentCLITests {
    static let agent = ProcessRunner.executable("decnet-agent")

    static func tempFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "cli-\(UUID().uuidString).json"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func run(_ args: [String], stdin: Data? = nil) throws -> ProcessRunner.Output {
        try ProcessRunner.run(agent, args, stdin: stdin)
    }

    @Test(arguments: VectorCase.load("hash.json"))
    func hashPrintsDECNETsHash(_ c: VectorCase) throws {
        let bytes = c["input_text"]?.stringValue.map { Array($0.utf8) } ?? PythonJSONEncoder().encode(c["input"]!)
        let file = try Self.tempFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let out = try Self.run(["hash", file])
        #expect(out.status == 0)
        #expect(out.stdoutText == (c["hash"]?.stringValue ?? "") + "\n")
    }

    /// `decnet-master hash` is the same command (one implementation, CLISupport's `HashArguments`): the same line for
    /// every vector, and the same exit 2 for input that is not JSON.
    @Test(arguments: VectorCase.load("hash.json"))
    func masterHashPrintsTheSameHash(_ c: VectorCase) throws {
        let bytes = c["input_text"]?.stringValue.map { Array($0.utf8) } ?? PythonJSONEncoder().encode(c["input"]!)
        let file = try Self.tempFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let out = try ProcessRunner.run(ProcessRunner.executable("decnet-master"), ["hash", file])
        #expect(out.status == 0)
        #expect(out.stdoutText == (c["hash"]?.stringValue ?? "") + "\n")
        let bad = try ProcessRunner.run(
            ProcessRunner.executable("decnet-master"),
            ["hash", "-"],
            stdin: Data("{".utf8)
        )
        #expect(bad.status == 2 && bad.stdoutText.isEmpty)
    }

    @Test func hashReadsStandardInput() throws {
        let out = try Self.run(["hash", "-"], stdin: Data(#"{"a":1E2}"#.utf8))
        #expect(out.status == 0)
        #expect(out.stdoutText.count == 65)
    }

    @Test(arguments: VectorCase.load("validate.json"))
    func validateMatchesTheRules(_ c: VectorCase) throws {
        let file = try Self.tempFile(PythonJSONEncoder().encode(c["input"]!))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let out = try Self.run(["validate", file])
        let report = try JSONParser.parse([UInt8](out.stdout))
        let hasErrors = c["raises"].map { $0 != .null } ?? false ? true : (c["has_errors"]?.boolValue ?? false)
        #expect(out.status == (hasErrors ? 1 : 0))
        #expect(report["has_errors"] == .bool(hasErrors))
        if let expected = c["issues"]?.arrayValue {
            let got = report["issues"]?.arrayValue ?? []
            #expect(got.map { $0["code"] } == expected.map { $0["code"] })
            #expect(got.map { $0["target"] } == expected.map { $0["target"] })
            #expect(got.map { $0["severity"] } == expected.map { $0["severity"] })
        } else {
            #expect(report["issues"]?.arrayValue?.contains { $0["code"] == "MALFORMED" } == true)
        }
    }

    @Test(arguments: VectorCase.load("compose.json"))
    func composeMatchesDECNET(_ c: VectorCase) throws {
        let file = try Self.tempFile(PythonJSONEncoder().encode(c["input"]!))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let out = try Self.run(["compose", file, "--templates-dir", "__DECNET_TEMPLATES__"])
        if c["valid"] == false {
            #expect(out.status == 1)
            return
        }
        #expect(out.status == 0, "\(out.stderr)")
        let document = try JSONParser.parse([UInt8](out.stdout))
        #expect(Self.withoutLabels(document) == c["compose"])
        let yaml = try Self.run(["compose", file, "--templates-dir", "__DECNET_TEMPLATES__", "--format", "yaml"])
        #expect(yaml.status == 0)
        #expect(yaml.stdoutText.contains("services:"))
    }

    static func withoutLabels(_ doc: JSONValue) -> JSONValue {
        guard case .object(var o) = doc, case .object(var services)? = o["services"] else { return doc }
        for m in services.members {
            guard case .object(var s) = m.value else { continue }
            s["labels"] = nil
            services[m.key] = .object(s)
        }
        o["services"] = .object(services)
        return .object(o)
    }

    @Test func baseImageOptionReplacesTheBaseImage() throws {
        let c = try #require(VectorCase.load("compose.json").first)
        let file = try Self.tempFile(PythonJSONEncoder().encode(c["input"]!))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let out = try Self.run(["compose", file, "--base-image", "mirror.local/debian:bookworm-slim"])
        #expect(out.status == 0)
        #expect(out.stdoutText.contains("mirror.local/debian:bookworm-slim"))
        #expect(!out.stdoutText.contains("\"debian:bookworm-slim\""))
    }

    @Test(arguments: [
        (["hash", "/nonexistent/topology.json"], Data?.none),
        (["validate", "/nonexistent/topology.json"], nil),
        (["compose", "/nonexistent/topology.json"], nil),
        (["hash", "-"], Data("{not json".utf8)),
        (["validate", "-"], Data([0xFF, 0xFE, 0x00])),
        (["compose", "-"], Data("".utf8)),
        (["hash", "-"], Data(#"{"s":"\ud800"}"#.utf8)),
    ])
    func badInputIsOneLineAndStatus2(_ args: [String], _ stdin: Data?) throws {
        let out = try Self.run(args, stdin: stdin)
        #expect(out.status == 2)
        #expect(out.stdout.isEmpty)
        #expect(out.stderr.split(separator: "\n").count == 1, "\(out.stderr)")
    }

    /// `run --help` says, for every setting of the table, its flag and its variable: the options are the table's.
    @Test func runHelpNamesEverySettingOfTheTable() throws {
        let out = try Self.run(["run", "--help"])
        #expect(out.status == 0)
        // ArgumentParser wraps help text at the terminal width: compare without the line breaks and indentation.
        let help = out.stdoutText.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for key in DaemonOptions.Key.allCases {
            #expect(help.contains("--\(key.flag) "), "\(key.flag)")
            #expect(help.contains("$\(key.environment)"), "\(key.environment)")
        }
    }

    @Test func unreadableCatalogIsStatus2() throws {
        let out = try Self.run(["validate", "-", "--catalog", "/nonexistent/catalog.json"], stdin: Data("{}".utf8))
        #expect(out.status == 2)
    }

    @Test func catalogRoundTripsThroughTheCatalogOption() throws {
        let printed = try Self.run(["catalog"])
        #expect(printed.status == 0)
        let file = try Self.tempFile([UInt8](printed.stdout))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let c = try #require(VectorCase.load("compose.json").first)
        let input = try Self.tempFile(PythonJSONEncoder().encode(c["input"]!))
        defer { try? FileManager.default.removeItem(atPath: input) }
        let out = try Self.run(["compose", input, "--catalog", file, "--templates-dir", "__DECNET_TEMPLATES__"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(Self.withoutLabels(try JSONParser.parse([UInt8](out.stdout))) == c["compose"])
    }
}
