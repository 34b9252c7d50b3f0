import DecnetJSON

/// Everything `TopologyStore` keeps behind its lock: the connection, and the last hydrated blob it parsed.
///
/// `state` and heartbeats read the applied topology every few seconds and need the parsed value (drift is computed
/// from it); parsing a 50-decky topology costs about 0.2 ms, comparing its stored bytes with the memo's a few µs.
/// Keyed by the exact stored bytes, the memo can never serve a stale value, whoever wrote the row.
struct StoreState {
    let connection: Connection
    private var memo: (blob: [UInt8], value: JSONValue)?

    init(connection: Connection) {
        self.connection = connection
    }

    /// The parsed form of `blob`, from the memo when it holds these exact bytes.
    mutating func hydrated(_ blob: [UInt8]) throws(JSONParseError) -> JSONValue {
        if let memo, memo.blob == blob { return memo.value }
        let value = try JSONParser.parse(blob)
        memo = (blob, value)
        return value
    }

    /// Closes the connection and drops the memo.
    mutating func close() {
        memo = nil
        connection.close()
    }
}
