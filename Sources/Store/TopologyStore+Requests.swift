import DecnetJSON

/// Request results for safe retries (docs/wire-protocol.md#delivery): a request id seen before with the same content
/// is answered from here and never executed twice, across agent restarts.
///
/// The fingerprint is the caller's hash of the canonical request without its `id`; the store only keeps and compares
/// it (byte for byte). A row is `running` until `finishRequest` stores its `result` envelope.
extension TopologyStore {
    /// Results are kept at least this long after they were produced...
    public static let requestRetentionSeconds: Int64 = 86_400
    /// ...and the newest this many requests are kept whatever their age.
    public static let requestRetentionCount = 1_000
    /// The message of the result given to a request a crashed process left running.
    public static let interruptedMessage = "agent restarted while the request was running"

    /// The result stored at open for a request a previous process left running, so a retry gets an answer and the
    /// request is never executed again. Exactly (compact, raw UTF-8, members in this order):
    /// `{"proto":1,"type":"result","id":"<id>","status":500,"error":{"code":"internal","message":"agent restarted
    /// while the request was running","details":{}}}`.
    public static func interruptedResult(id: String) -> [UInt8] {
        let error: JSONObject = [
            "code": "internal", "message": JSONValue(interruptedMessage), "details": .object(JSONObject()),
        ]
        let envelope: JSONObject = [
            "proto": 1, "type": "result", "id": JSONValue(id), "status": 500, "error": .object(error),
        ]
        return PythonJSONEncoder().encode(.object(envelope))
    }

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
                    "SELECT fingerprint, result_json FROM request WHERE id = ?",
                    [.text(id)],
                    operation: operation
                ) { s in (s.bytes(0) ?? [], s.bytes(1)) }
                if let (storedFingerprint, result) = found {
                    guard storedFingerprint.elementsEqual(fingerprint.utf8) else { return .reused }
                    return result.map { .finished(resultJSON: $0) } ?? .running
                }
                try c.run(
                    "INSERT INTO request (id, fingerprint, type, started_at) VALUES (?, ?, ?, ?)",
                    [.text(id), .text(fingerprint), .text(type), .integer(at)],
                    operation: operation
                )
                return .new
            }
        }
    }

    /// Stores the `result` envelope (UTF-8 JSON, kept verbatim) of a running request. Answers `false`, and changes
    /// nothing, when no request with this id is running: a stored result is never overwritten.
    @discardableResult
    public func finishRequest(id: String, result: [UInt8], at: Int64) throws(StoreError) -> Bool {
        try withConnection("finish request") { (c) throws(StoreError) in
            try c.run(
                "UPDATE request SET finished_at = ?, result_json = ? WHERE id = ? AND result_json IS NULL",
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

    /// Deletes finished results that are both older than `maxAge` seconds (by finish time) and not among the
    /// newest `keep` requests; running requests are never deleted. Answers how many rows went.
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
                WHERE result_json IS NOT NULL AND finished_at < ?
                  AND seq NOT IN (SELECT seq FROM request ORDER BY seq DESC LIMIT ?)
                """,
                [.integer(now - maxAge), .integer(Int64(keep))],
                operation: "prune requests"
            )
        }
    }

    /// At open: gives every request left running by a previous process the interrupted result. Writes nothing when
    /// there is none, so opening a healthy store changes no row.
    static func interruptRunningRequests(_ c: Connection, at now: Int64) throws(StoreError) {
        let operation = "mark interrupted requests"
        let select = "SELECT seq, id FROM request WHERE result_json IS NULL"
        guard try c.row(select, operation: operation, { _ in true }) != nil else { return }
        try c.transaction(operation: operation) { () throws(StoreError) in
            let running = try c.rows(select, operation: operation) { s in (s.int64(0), s.text(1) ?? "") }
            for (seq, id) in running {
                try c.run(
                    "UPDATE request SET finished_at = ?, result_json = ? WHERE seq = ? AND result_json IS NULL",
                    [.integer(now), .textBytes(interruptedResult(id: id)), .integer(seq)],
                    operation: operation
                )
            }
        }
    }
}
