import ArgumentParser
import CLISupport
import DecnetJSON
import Master
import ZeroMQ

extension KeysCommand {
    /// `decnet-master keys token`: makes a one-time enrolment token, or revokes one
    /// (docs/security.md#enrolment-tokens, docs/operations.md#zero-touch).
    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an enrolment token (printed once, never stored), or revoke one.",
            discussion: """
                An agent started with the token (decnet-agent run --enrol-token-file PATH, or DECNET_ENROL_TOKEN) \
                whose key is not accepted enrols itself: its key is written to agents/ID.key under the id it \
                gives, unless that id already has another key. The master keeps only the public key derived from \
                the token, in tokens/, with its expiry and uses left; keys list shows it.
                """
        )
        @OptionGroup var directory: DirectoryOptions
        @Option(help: "How long the token is valid: a number with s, m, h or d (1s to 30d).")
        var ttl: String = "1h"
        @Option(help: "How many agents may enrol with it (1 to 10000).")
        var uses: Int = 1
        @Option(help: "Revoke the token with this id (at least 8 leading hex digits, as keys list shows).")
        var revoke: String?
        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let tokens = EnrolmentTokens(directory: MasterDirectory(directory.path).tokensPath)
            if let revoke {
                let record = KeysCommand.performToken { () throws(MasterError) in try tokens.revoke(revoke) }
                if json { Output.json(record.jsonValue) } else { print("revoked token \(record.id)") }
                return
            }
            guard let millis = Self.millis(ttl) else {
                OperatorIO.fail("keys token: --ttl \(ttl) is not a number with s, m, h or d [bad_request]", status: 2)
            }
            let made = KeysCommand.performToken { () throws(MasterError) in
                try tokens.create(ttlMillis: millis, uses: uses)
            }
            if json {
                var object = made.record.jsonValue.objectValue ?? JSONObject()
                object["token"] = JSONValue(made.token.text)
                Output.json(.object(object))
            } else {
                print(made.token.text)
                StandardStream.writeError(
                    "token \(made.record.id): \(made.record.usesLeft) use(s), expires "
                        + "\(KeysTable.time(made.record.expires)); it is shown only now\n"
                )
            }
        }

        /// `90s`, `15m`, `1h`, `7d` (or plain seconds) in milliseconds.
        static func millis(_ text: String) -> Int64? {
            let units: [Character: Int64] = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
            var digits = Substring(text)
            var unit: Int64 = 1000
            if let last = text.last, let value = units[last] {
                unit = value
                digits = digits.dropLast()
            }
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isASCII), let number = Int64(digits),
                number >= 0
            else { return nil }
            return number * unit
        }
    }

    static func performToken<T>(_ body: () throws(MasterError) -> T) -> T {
        do {
            return try body()
        } catch {
            OperatorIO.fail("keys token: \(error.message) [\(error.code)]", status: error.code == .badRequest ? 2 : 1)
        }
    }
}
