import DecnetJSON

/// The applied topology and the last failed attempt: DECNET's store rules (one topology per agent, idempotent
/// re-put, errors annotate the applied row, clearing is idempotent) plus docs/deviations.md#attempts (failed applies
/// are kept as the `attempt`, so `versionHash` only ever names a hash applied completely).
extension TopologyStore {
    /// The applied topology, or `nil` when the agent is idle.
    public func current() throws(StoreError) -> AppliedTopology? {
        try withState("current") { (s: inout StoreState) throws(StoreError) in try Self.readApplied(&s) }
    }

    /// The last failed apply, or `nil` when the last apply did not fail.
    public func lastAttempt() throws(StoreError) -> ApplyAttempt? {
        try withConnection("last attempt") { (c) throws(StoreError) in try Self.readAttempt(c) }
    }

    /// The applied topology and the last attempt, read together so no write falls between them (for `state`).
    public func snapshot() throws(StoreError) -> (applied: AppliedTopology?, attempt: ApplyAttempt?) {
        let pair = try withState("snapshot") { (s: inout StoreState) throws(StoreError) in
            let c = s.connection
            return try c.transactionForReading(operation: "snapshot") { () throws(StoreError) in
                Snapshot(applied: try Self.readApplied(&s), attempt: try Self.readAttempt(c))
            }
        }
        return (pair.applied, pair.attempt)
    }

    /// Records a completed apply. The same topology id again is an idempotent re-put (hash, blob and time replaced,
    /// `lastError` cleared); a different id while one is applied throws `alreadyApplied` with the applied id. A
    /// successful apply also clears the `attempt` row. The blob is stored as `PythonJSONEncoder` text (key order,
    /// big integers and `1.0` kept exactly).
    public func put(topologyID: String, versionHash: String, hydrated: JSONValue, at: Int64) throws(StoreError) {
        precondition(!topologyID.isEmpty, "put needs a topology id")
        precondition(!versionHash.isEmpty, "put needs a version hash")
        let blob = PythonJSONEncoder().encode(hydrated)
        try withConnection("put") { (c) throws(StoreError) in
            try c.transaction(operation: "put") { () throws(StoreError) in
                let existing = try c.row("SELECT topology_id FROM applied", operation: "put") { $0.text(0) ?? "" }
                // Byte comparison: ids come from JSON, where Swift's canonical-equivalence `==` would be wrong.
                if let existing, !existing.utf8.elementsEqual(topologyID.utf8) {
                    throw StoreError(
                        code: .alreadyApplied,
                        operation: "put",
                        message: "topology \(existing) is applied; cannot apply \(topologyID)",
                        existingTopologyID: existing
                    )
                }
                try c.run(
                    """
                    INSERT INTO applied (slot, topology_id, version_hash, hydrated_json, applied_at, last_error)
                    VALUES (1, ?, ?, ?, ?, NULL)
                    ON CONFLICT (slot) DO UPDATE SET
                        topology_id = excluded.topology_id, version_hash = excluded.version_hash,
                        hydrated_json = excluded.hydrated_json, applied_at = excluded.applied_at, last_error = NULL
                    """,
                    [.text(topologyID), .text(versionHash), .textBytes(blob), .integer(at)],
                    operation: "put"
                )
                try c.run("DELETE FROM attempt", operation: "put")
            }
        }
    }

    /// Sets `lastError` on the applied row when `topologyID` is the applied topology; answers whether it did.
    /// The applied hash is kept (a failed re-apply leaves the old, complete apply in place).
    @discardableResult
    public func recordError(topologyID: String, message: String) throws(StoreError) -> Bool {
        try withConnection("record error") { (c) throws(StoreError) in
            try c.run(
                "UPDATE applied SET last_error = ? WHERE topology_id = ?",
                [.text(message), .text(topologyID)],
                operation: "record error"
            ) > 0
        }
    }

    /// Forgets the applied topology `topologyID` (after teardown); answers whether a row was removed. Clearing an
    /// id that is not applied changes nothing, which keeps teardown idempotent.
    @discardableResult
    public func clear(topologyID: String) throws(StoreError) -> Bool {
        try withConnection("clear") { (c) throws(StoreError) in
            try c.run("DELETE FROM applied WHERE topology_id = ?", [.text(topologyID)], operation: "clear") > 0
        }
    }

    /// Records a failed apply, replacing the previous attempt.
    public func recordAttempt(topologyID: String, versionHash: String, at: Int64, error: String) throws(StoreError) {
        try withConnection("record attempt") { (c) throws(StoreError) in
            _ = try c.run(
                """
                INSERT INTO attempt (slot, topology_id, version_hash, at, error) VALUES (1, ?, ?, ?, ?)
                ON CONFLICT (slot) DO UPDATE SET topology_id = excluded.topology_id,
                    version_hash = excluded.version_hash, at = excluded.at, error = excluded.error
                """,
                [.text(topologyID), .text(versionHash), .integer(at), .text(error)],
                operation: "record attempt"
            )
        }
    }

    /// Forgets the last failed apply; answers whether there was one.
    @discardableResult
    public func clearAttempt() throws(StoreError) -> Bool {
        try withConnection("clear attempt") { (c) throws(StoreError) in
            try c.run("DELETE FROM attempt", operation: "clear attempt") > 0
        }
    }

    private struct Snapshot: Sendable {
        var applied: AppliedTopology?
        var attempt: ApplyAttempt?
    }

    private static func readApplied(_ state: inout StoreState) throws(StoreError) -> AppliedTopology? {
        let sql = "SELECT topology_id, version_hash, hydrated_json, applied_at, last_error FROM applied"
        let row = try state.connection.row(sql, operation: "current") { s in
            (s.text(0) ?? "", s.text(1) ?? "", s.bytes(2) ?? [], s.int64(3), s.text(4))
        }
        guard let (id, hash, blob, appliedAt, lastError) = row else { return nil }
        let hydrated: JSONValue
        do {
            hydrated = try state.hydrated(blob)
        } catch {
            throw StoreError(
                code: .corrupt,
                operation: "current",
                message: "the stored topology \(id) is not valid JSON any more: \(error)"
            )
        }
        return AppliedTopology(
            topologyID: id,
            versionHash: hash,
            hydrated: hydrated,
            appliedAt: appliedAt,
            lastError: lastError
        )
    }

    private static func readAttempt(_ c: Connection) throws(StoreError) -> ApplyAttempt? {
        try c.row("SELECT topology_id, version_hash, at, error FROM attempt", operation: "last attempt") { s in
            ApplyAttempt(
                topologyID: s.text(0) ?? "",
                versionHash: s.text(1) ?? "",
                at: s.int64(2),
                error: s.text(3) ?? ""
            )
        }
    }
}
