import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A scripted HTTP peer on a temporary unix socket, for what a real daemon will not do on demand: stall, send
/// garbage, cut a stream, or close keep-alive connections. Each connection is served by its own thread running
/// `serve`, with blocking POSIX calls (never on Swift's cooperative pool).
public final class FakeDaemon: @unchecked Sendable {
    // Invariant for @unchecked Sendable: the counters and `requests` are accessed only while `lock` is held; the
    // listening descriptor is written once in init and closed once in stop().
    public let path: String
    private let listener: Int32
    private let lock = NSLock()
    private var active = 0
    private var peak = 0
    private var accepted = 0
    private var requestHeads: [String] = []

    /// One accepted connection, used from its serving thread only.
    public final class Connection {
        public let fd: Int32
        private var buffer: [UInt8] = []
        fileprivate let daemon: FakeDaemon

        fileprivate init(fd: Int32, daemon: FakeDaemon) {
            self.fd = fd
            self.daemon = daemon
        }

        /// Reads one request head (and its Content-Length body); returns the request line, or nil at EOF.
        public func readRequest() -> String? {
            while true {
                if let end = findHeadEnd() {
                    let head = String(decoding: buffer[..<end], as: UTF8.self)
                    buffer.removeFirst(end + 4)
                    let length =
                        head.split(separator: "\r\n").compactMap { line -> Int? in
                            let parts = line.split(separator: ":", maxSplits: 1)
                            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                            return Int(parts[1].trimmingCharacters(in: .whitespaces))
                        }.first ?? 0
                    while buffer.count < length { guard fill() else { return nil } }
                    buffer.removeFirst(length)
                    daemon.record(head)
                    return String(head.split(separator: "\r\n").first ?? "")
                }
                guard fill() else { return nil }
            }
        }

        /// Sends `text`; false once the client has closed the connection.
        @discardableResult
        public func write(_ text: String) -> Bool { write(bytes: Array(text.utf8)) }

        @discardableResult
        public func write(bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }

        /// A complete response with a Content-Length body.
        public func respond(_ status: String, _ body: String, headers: [String] = ["Content-Type: application/json"]) {
            let lines = ["HTTP/1.1 \(status)"] + headers + ["Content-Length: \(body.utf8.count)"]
            write(lines.joined(separator: "\r\n") + "\r\n\r\n" + body)
        }

        /// Answers the version negotiation the client does first; returns false for any other request.
        public func answerVersion(_ request: String, api: String = "1.41") -> Bool {
            guard request.hasPrefix("GET /version ") else { return false }
            respond("200 OK", #"{"Version":"fake","ApiVersion":"\#(api)","MinAPIVersion":"1.12"}"#)
            return true
        }

        public func pause(_ seconds: Double) { usleep(useconds_t(seconds * 1_000_000)) }

        private func findHeadEnd() -> Int? {
            guard buffer.count >= 4 else { return nil }
            for i in 0...(buffer.count - 4)
            where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13
                && buffer[i + 3] == 10
            {
                return i
            }
            return nil
        }

        private func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            buffer += chunk[..<count]
            return true
        }
    }

    public init(serve: @escaping @Sendable (Connection) -> Void) throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "fake-docker-\(UUID().uuidString.prefix(8)).sock"
            ).path
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        let listening = self.listener
        Thread.detachNewThread { [self] in
            while true {
                let fd = accept(listening, nil, nil)
                if fd < 0 { return }
                lock.withLock {
                    accepted += 1
                    active += 1
                    peak = max(peak, active)
                }
                Thread.detachNewThread { [self] in
                    serve(Connection(fd: fd, daemon: self))
                    close(fd)
                    lock.withLock { active -= 1 }
                }
            }
        }
    }

    /// Connections accepted so far, and the most that were open at once.
    public var counts: (accepted: Int, peak: Int) { lock.withLock { (accepted, peak) } }
    /// Request lines received, in order.
    public var requests: [String] { heads.map { String($0.split(separator: "\r\n").first ?? "") } }
    /// Whole request heads (request line and header fields), in order.
    public var heads: [String] { lock.withLock { requestHeads } }

    fileprivate func record(_ head: String) { lock.withLock { requestHeads.append(head) } }

    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
    }
}
