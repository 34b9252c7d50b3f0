import DecnetJSON

/// Request results for safe retries (docs/wire-protocol.md#delivery): a request id seen before with the same content
/// is answered from here and never executed twice, across agent restarts.
///
/// The fingerprint is the caller's hash of the canonical request without its `id`; the store only keeps and compares
/// it (byte for byte). A row is `running` until `finishRequest` stores its `result` envelope (`finished`), or until
/// the next open finds it left behind by a crashed process (`interrupted`, with that time). The store keeps that
/// status, never an envelope of its own making: the dispatcher turns it into the answer (docs/wire-protocol.md#errors).
extension TopologyStore {
    /// Results are kept at least this long after they were produced...
    public static let requestRetentionSeconds: Int64 = 86_400
    /// ...and the newest this many requests are kept whatever their age.
    public static let requestRetentionCount = 1_000
    /// Looks the request id up and, when it is new, records it as running (in one transaction, so two deliveries of
    /// one request cannot both be `.new`).
    public func beginRequest(
        id: String,
        fingerprint: String,
        type: String,
        at: Int64
    ) throws(StoreError)
        -> RequestBegin
    {
        let operation = "begin request"
        return try withConnection(operation) { (c) throws(StoreError) in
            try c.transaction(operation: operation) { () throws(StoreError) -> RequestBegin in
                let found = try c.row(
                    "SELECT fingerprint, status, finished_at, result_json FROM request WHERE id = ?",
                    [.text(id)],
                    operation: operation
                ) { s in (s.bytes(0) ?? [], s.text(1) ?? "", s.int64(2), s.bytes(3)) }
                if let (storedFingerprint, status, finishedAt, result) = found {
                    guard storedFingerprint.elementsEqual(fingerprint.utf8) else { return .reused }
                    switch status {
                    case "running": return .running
                    case "interrupted": return .interrupted(at: finishedAt)
                    default:
                        guard let result else {
                            throw StoreError(
                                code: .corrupt,
                                operation: operation,
                                message: "request \(id) is \(status) without a result"
                            )
                        }
                        return .finished(resultJSON: result)
                    }
                }
                try c.run(
                    "INSERT INTO request (id, fingerprint, type, started_at, status) VALUES (?, ?, ?, ?, 'running')",
                    [.text(id), .text(fingerprint), .text(type), .integer(at)],
                    operation: operation
                )
                return .new
            }
        }
    }

    /// Stores the `result` envelope (UTF-8 JSON, kept verbatim) of a running request. Answers `false`, and changes
    /// nothing, when no request with this id is running: a stored result or an interruption is never overwritten.
    @discardableResult
    public func finishRequest(id: String, result: [UInt8], at: Int64) throws(StoreError) -> Bool {
        try withConnection("finish request") { (c) throws(StoreError) in
            try c.run(
                """
                UPDATE request SET status = 'finished', finished_at = ?, result_json = ?
                WHERE id = ? AND status = 'running'
                """,
                [.integer(at), .textBytes(result), .text(id)],
                operation: "finish request"
            ) > 0
        }
    }

    /// `finishRequest` with the envelope encoded by `PythonJSONEncoder` (compact, raw UTF-8).
    @discardableResult
    public func finishRequest(id: String, result: JSONValue, at: Int64) throws(StoreError) -> Bool {
        try finishRequest(id: id, result: PythonJSONEncoder().encode(result), at: at)
    }

    /// Deletes finished and interrupted requests that are both older than `maxAge` seconds (by finish time) and not
    /// among the newest `keep` requests; running requests are never deleted. Answers how many rows went.
    @discardableResult
    public func prune(
        now: Int64,
        maxAge: Int64 = requestRetentionSeconds,
        keep: Int = requestRetentionCount
    ) throws(StoreError) -> Int {
        precondition(maxAge >= 0 && keep >= 0, "negative retention")
        return try withConnection("prune requests") { (c) throws(StoreError) in
            try c.run(
                """
                DELETE FROM request
                WHERE status <> 'running' AND finished_at < ?
                  AND seq NOT IN (SELECT seq FROM request ORDER BY seq DESC LIMIT ?)
                """,
                [.integer(now - maxAge), .integer(Int64(keep))],
                operation: "prune requests"
            )
        }
    }

    /// At open: marks every request left running by a previous process `interrupted` at `now`, so a retry gets an
    /// answer and the request is never executed again. Writes nothing when there is none, so opening a healthy store
    /// changes no row.
    static func interruptRunningRequests(_ c: Connection, at now: Int64) throws(StoreError) {
        let operation = "mark interrupted requests"
        guard try c.row("SELECT 1 FROM request WHERE status = 'running'", operation: operation, { _ in true }) != nil
        else { return }
        try c.run(
            "UPDATE request SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
            [.integer(now)],
            operation: operation
        )
    }
}
