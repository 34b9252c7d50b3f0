import CLISupport
import DecnetJSON
import Foundation
import Master
import ZeroMQ

/// Renders `keys list` for people: one row per key; times in UTC.
enum KeysTable {
    static let columns = ["STATE", "ID", "FINGERPRINT", "ADDRESS", "FIRST SEEN", "LAST SEEN", "ATTEMPTS"]

    static func render(_ entries: [KeyRegistry.Entry]) -> String {
        var rows = [columns]
        for entry in entries {
            rows.append([
                entry.state.rawValue, entry.id ?? "-", entry.key.shortFingerprint, entry.address ?? "-",
                time(entry.firstSeen ?? entry.changed), time(entry.lastSeen), entry.attempts.map(String.init) ?? "-",
            ])
        }
        var lines = TextTable.lines(rows)
        if entries.isEmpty { lines.append("(no keys)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Enrolment tokens (docs/security.md#enrolment-tokens): id, expiry and uses left.
    static func render(_ tokens: [TokenRecord]) -> String {
        let now = MasterConfiguration.systemMillis()
        var lines = ["\nTOKEN             EXPIRES               USES LEFT  STATE"]
        for token in tokens {
            let state = token.isLive(now: now) ? "live" : (token.usesLeft == 0 ? "used up" : "expired")
            let left = "\(token.usesLeft)/\(token.uses)"
            lines.append(
                token.id + "  " + time(token.expires) + "  " + left.padding(toLength: 9, withPad: " ", startingAt: 0)
                    + "  " + state
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A token in `keys list --json`: `state` = `token`.
    static func tokenJSON(_ token: TokenRecord) -> JSONValue {
        var object = token.jsonValue.objectValue ?? JSONObject()
        object["state"] = JSONValue("token")
        object["live"] = .bool(token.isLive(now: MasterConfiguration.systemMillis()))
        return .object(object)
    }

    static func time(_ millis: Int64?) -> String {
        guard let millis else { return "-" }
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ",
            Int(parts.tm_year) + 1900,
            Int(parts.tm_mon) + 1,
            Int(parts.tm_mday),
            Int(parts.tm_hour),
            Int(parts.tm_min),
            Int(parts.tm_sec)
        )
    }
}
