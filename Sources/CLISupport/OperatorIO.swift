import DecnetJSON

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Reads the JSON document an operator command was given (`-` is standard input).
///
/// Every failure (unreadable file, not JSON) prints one clear line on standard error and exits with status 2, so
/// scripts can tell bad input apart from an invalid topology (status 1).
public enum OperatorIO {
    /// The program name used in error lines: the executable's own name.
    public static var programName: String {
        CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? Substring($0)) } ?? "decnet"
    }

    public static func readJSON(_ path: String) -> JSONValue {
        let bytes: [UInt8]
        if path == "-" {
            bytes = StandardStream.readInput()
        } else {
            guard let data = FileManager.default.contents(atPath: path) else {
                let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
                fail("\(path): file \(reason)")
            }
            bytes = [UInt8](data)
        }
        do {
            return try JSONParser.parse(bytes)
        } catch {
            fail("\(path == "-" ? "stdin" : path): not valid JSON: \(error)")
        }
    }

    public static func fail(_ line: String, status: Int32 = 2) -> Never {
        StandardStream.writeError("\(programName): \(line)\n")
        exit(status)
    }
}

/// Writes JSON to standard output, pretty-printed with raw UTF-8.
public enum Output {
    public static func json(_ value: JSONValue, pretty: Bool = true) {
        var bytes = PythonJSONEncoder(indent: pretty ? 2 : nil).encode(value)
        bytes.append(0x0A)
        StandardStream.writeOutput(bytes)
    }
}
