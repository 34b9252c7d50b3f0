import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Text log lines for the systemd journal: no timestamp (the journal stamps every entry itself), each line
/// prefixed with its syslog priority (`<6>` for info), which journald reads when a unit's standard error is its
/// stream (`SyslogLevelPrefix=`, on by default), so `journalctl -p warning` works. One call, one line: newlines in
/// the message or metadata are written as `\n`.
///
/// `<6>info decnet.agent: connected to master endpoint=tcp://m:8771 agent_id=host-17`
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        StandardStream.writeError(
            Self.line(
                level: event.level,
                label: label,
                message: event.message.description,
                metadata: metadata.merging(event.metadata ?? [:]) { _, new in new }
            )
        )
    }

    /// The syslog priority of a level (`sd-daemon.h`'s `SD_DEBUG` ... `SD_CRIT`).
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func line(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var line = "<\(priority(level))>\(level.rawValue) \(label): \(oneLine(message))"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " \(oneLine(key))=\(oneLine(value.description))"
        }
        return line + "\n"
    }

    static func oneLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Whether standard error is connected to the journal: `JOURNAL_STREAM` (`DEVICE:INODE`, set by systemd for a
    /// unit whose output goes to the journal) names the very stream file descriptor 2 is, as `sd_journal_stream_fd`'s
    /// documentation asks callers to check (a child of the unit may have redirected it).
    public static func standardErrorIsJournal(environment value: String?) -> Bool {
        guard let value else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(STDERR_FILENO, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    /// From this process's environment.
    public static var standardErrorIsJournal: Bool {
        standardErrorIsJournal(environment: getenv("JOURNAL_STREAM").map { String(cString: $0) })
    }

    /// The text handler for `--log-format text`: journal lines when standard error is the journal, else swift-log's
    /// stream handler (timestamped, as before).
    public static func textHandler(label: String) -> any LogHandler {
        if standardErrorIsJournal { return JournalLogHandler(label: label) }
        return StreamLogHandler.standardError(label: label)
    }
}
