import DecnetJSON
import Foundation
import Logging

/// A swift-log handler writing one JSON object per line on standard error:
/// `{"ts","level","label","message",...metadata}`. Chosen by `--log-format json`; text uses swift-log's own stream
/// handler. Bootstrapped only by the executables, never by libraries or tests.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public let label: String

    public init(label: String) { self.label = label }

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
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where object[key] == nil {
            object[key] = .string(JSONString(value.description))
        }
        var line = PythonJSONEncoder().encode(.object(object))
        line.append(0x0A)
        FileHandle.standardError.write(Data(line))
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    /// Bootstraps swift-log once for an executable: JSON lines or text on standard error.
    public static func bootstrap(format: String, level: Logger.Level = .info) {
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                format == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
