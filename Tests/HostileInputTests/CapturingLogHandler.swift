import Logging
import TestSupport

/// A swift-log handler that keeps every event, level trace and up, as one line of text with all its parts (level,
/// label, message, error, metadata, source, file, function, line), so a test can search everything a log would show.
/// Passed to a `Logger(label:factory:)` directly: no process-wide bootstrap.
struct CapturingLogHandler: LogHandler {
    let label: String
    let lines: Locked<[String]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let error = event.error.map { " error=\($0) \(String(reflecting: $0))" } ?? ""
        let line = "\(event.level) [\(label)] \(event.message)\(error) {\(fields)} source=\(event.source) "
            + "\(event.file):\(event.line) \(event.function)"
        lines.withLock { $0.append(line) }
    }

    /// A logger at trace level writing into `lines`.
    static func logger(_ label: String, into lines: Locked<[String]>) -> Logger {
        var logger = Logger(label: label) { CapturingLogHandler(label: $0, lines: lines) }
        logger.logLevel = .trace
        return logger
    }
}
