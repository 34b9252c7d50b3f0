import DecnetJSON
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A swift-log handler writing one JSON object per line on standard error:
/// `{"ts","level","label","message",["source",]...metadata}`, metadata values as strings. Chosen by
/// `--log-format json` in both executables (`decnet-agent run`, `decnet-master serve`); text uses swift-log's own
/// stream handler. Bootstrapped only by the executables, never by libraries or tests.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public let label: String
    /// Whether lines carry `source` (the emitting module): the master's lines always have, the agent's never had.
    public let includeSource: Bool
    /// One line at a time: a line longer than a pipe's atomic write would otherwise interleave with another.
    private static let writing = Mutex(())

    public init(label: String, includeSource: Bool = false) {
        self.label = label
        self.includeSource = includeSource
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object = JSONObject()
        object["ts"] = .string(JSONString(Self.timestamp()))
        object["level"] = .string(JSONString(event.level.rawValue))
        object["label"] = .string(JSONString(label))
        object["message"] = .string(JSONString(event.message.description))
        if includeSource { object["source"] = .string(JSONString(event.source)) }
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where object[key] == nil {
            object[key] = .string(JSONString(value.description))
        }
        var line = PythonJSONEncoder().encode(.object(object))
        line.append(0x0A)
        Self.writing.withLock { _ in StandardStream.writeError(line) }
    }

    /// Now in UTC to the millisecond, `2026-01-31T09:05:07.042Z` (ISO 8601, as `ISO8601DateFormatter` with fractional
    /// seconds wrote it: rounded to the nearest millisecond).
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return timestamp(seconds: Int(now.tv_sec), nanoseconds: Int(now.tv_nsec))
    }

    static func timestamp(seconds: Int, nanoseconds: Int) -> String {
        var seconds = seconds
        var milliseconds = (nanoseconds + 500_000) / 1_000_000
        if milliseconds == 1000 {
            seconds += 1
            milliseconds = 0
        }
        var time = time_t(seconds)
        var fields = tm()
        gmtime_r(&time, &fields)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(fields.tm_year + 1900, 4) + "-" + pad(fields.tm_mon + 1, 2) + "-" + pad(fields.tm_mday, 2) + "T"
            + pad(fields.tm_hour, 2) + ":" + pad(fields.tm_min, 2) + ":" + pad(fields.tm_sec, 2) + "."
            + pad(Int32(milliseconds), 3) + "Z"
    }

    /// Bootstraps swift-log once for an executable: JSON lines (`format` "json") or text on standard error (text
    /// without timestamps and with syslog priorities when standard error is the journal: ``JournalLogHandler``).
    public static func bootstrap(format: String, level: Logger.Level = .info, includeSource: Bool = false) {
        let journal = JournalLogHandler.standardErrorIsJournal
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler
            if format == "json" {
                handler = JSONLogHandler(label: label, includeSource: includeSource)
            } else if journal {
                handler = JournalLogHandler(label: label)
            } else {
                handler = StreamLogHandler.standardError(label: label)
            }
            handler.logLevel = level
            return handler
        }
    }
}
