/// Rate limits for log lines that peers can cause: at most ``linesPerWindow`` lines per reason in each window; the
/// rest are counted, and the first line of the next window says how many were held back. Refusals stay cheap under a
/// flood (a handshake flood once cost 1.2 cores, mostly logging), and every one is still counted.
struct LogLimiter: Sendable {
    var linesPerWindow = 10
    var windowMillis: Int64 = 10_000

    private var windows: [String: (start: Int64, lines: Int, held: Int)] = [:]
    /// Lines held back since the master started, by reason.
    private(set) var suppressed: [String: Int] = [:]

    /// Whether a line for `reason` may be written now; when it may, also how many were held back before it.
    mutating func admit(_ reason: String, now: Int64) -> (allowed: Bool, held: Int) {
        var window = windows[reason] ?? (now, 0, 0)
        var held = 0
        if now - window.start >= windowMillis {
            held = window.held
            window = (now, 0, 0)
        }
        guard window.lines < linesPerWindow else {
            window.held += 1
            suppressed[reason, default: 0] += 1
            windows[reason] = window
            return (false, 0)
        }
        window.lines += 1
        windows[reason] = window
        return (true, held)
    }
}

/// Text a peer chose, made safe for one log line: control characters, DEL and the C1 range as `\u{..}` escapes
/// (no forged lines, no terminal escape sequences), backslashes doubled, at most `limit` characters.
enum LogText {
    static func escaped(_ text: String, limit: Int = 200) -> String {
        var result = ""
        var count = 0
        for scalar in text.unicodeScalars {
            guard count < limit else {
                result += "..."
                break
            }
            count += 1
            switch scalar.value {
            case 0x5C: result += "\\\\"
            case 0..<0x20, 0x7F..<0xA0, 0x2028, 0x2029:
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Bytes a peer sent, decoded as UTF-8 (invalid sequences repaired) and escaped.
    static func escaped(bytes: some Collection<UInt8>, limit: Int = 80) -> String {
        escaped(String(decoding: bytes.prefix(limit * 4), as: UTF8.self), limit: limit)
    }
}
