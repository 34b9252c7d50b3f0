import DecnetJSON
import Foundation
import Logging

/// Writes one JSON object per log line to standard error: `ts` (ISO 8601, UTC, milliseconds), `level`, `label`,
/// `message`, `source` and the metadata as strings. For `serve --log-format json`.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    private static let lock = NSLock()

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object = JSONObject()
        object["ts"] = .string(JSONString(Self.timestamp()))
        object["level"] = .string(JSONString(event.level.rawValue))
        object["label"] = .string(JSONString(label))
        object["message"] = .string(JSONString("\(event.message)"))
        object["source"] = .string(JSONString(event.source))
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() where object[key] == nil {
            object[key] = .string(JSONString("\(merged[key]!)"))
        }
        var bytes = PythonJSONEncoder().encode(.object(object))
        bytes.append(0x0A)
        Self.lock.lock()
        defer { Self.lock.unlock() }
        FileHandle.standardError.write(Data(bytes))
    }

    static func timestamp() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(spec.tv_nsec / 1_000_000))
    }
}
