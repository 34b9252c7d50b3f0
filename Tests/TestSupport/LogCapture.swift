import Logging
import Synchronization

/// Keeps in memory every event logged through the loggers it makes (level trace and up), so a test can check what
/// was logged, at which level, with which metadata. The loggers are passed down directly, as the executables pass
/// theirs: nothing is bootstrapped process-wide.
public final class LogCapture: Sendable {
    /// One logged event, with the logger's and the call's metadata merged and rendered as text.
    public struct Entry: Sendable {
        public var level: Logger.Level
        public var label: String
        public var message: String
        public var metadata: [String: String]
        public var error: String?
        public var source: String
        public var file: String
        public var function: String
        public var line: UInt

        /// Everything the event carries on one line (level, label, message, error, metadata, source, file, function,
        /// line), for tests that search all of it.
        public var text: String {
            let fields = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let error = self.error.map { " error=\($0)" } ?? ""
            return "\(level) [\(label)] \(message)\(error) {\(fields)} source=\(source) \(file):\(line) \(function)"
        }
    }

    private let storage = Mutex<[Entry]>([])

    public init() {}

    /// A logger at trace level writing here.
    public func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { [self] in Handler(label: $0, capture: self) }
        logger.logLevel = .trace
        return logger
    }

    /// Everything logged so far, in order.
    public var entries: [Entry] { storage.withLock { $0 } }

    /// Each entry as one line of text.
    public var lines: [String] { entries.map(\.text) }

    /// The entries at `level` whose message is `message`.
    public func entries(_ level: Logger.Level, _ message: String) -> [Entry] {
        entries.filter { $0.level == level && $0.message == message }
    }

    fileprivate func append(_ entry: Entry) { storage.withLock { $0.append(entry) } }

    struct Handler: LogHandler {
        let label: String
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            capture.append(
                Entry(
                    level: event.level,
                    label: label,
                    message: event.message.description,
                    metadata: merged.mapValues { "\($0)" },
                    error: event.error.map { "\($0) \(String(reflecting: $0))" },
                    source: event.source,
                    file: event.file,
                    function: event.function,
                    line: event.line
                )
            )
        }
    }
}
