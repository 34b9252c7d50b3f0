/// What `TopologyStore.beginRequest` found for a request id (safe retries: docs/wire-protocol.md#delivery).
public enum RequestBegin: Sendable, Equatable {
    /// First time this id is seen: it is now recorded as running and the caller executes the request.
    case new
    /// The same request (same id and fingerprint) is still running: answer `accepted`, do not execute it again.
    case running
    /// The same request already finished: answer with this stored `result` envelope (UTF-8 JSON bytes), verbatim.
    case finished(resultJSON: [UInt8])
    /// The same request was running when a previous agent process stopped (found at the next open, `at` Unix
    /// seconds): it never runs again; the dispatcher answers it as interrupted (docs/wire-protocol.md#errors).
    case interrupted(at: Int64)
    /// The id was used before for a different request (another fingerprint): answer `id_reused` (409).
    case reused
}
