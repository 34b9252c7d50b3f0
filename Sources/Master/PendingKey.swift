import DecnetJSON
import ZeroMQ

/// A key the master refused because it is in no allow-list entry, kept so that an operator can accept it
/// (docs/security.md#enrolment). On disk it is `RUN_DIR/pending/<fingerprint>.json`.
public struct PendingKey: Sendable, Equatable {
    public var key: CurveKey
    /// The peer's IP address as the ZAP request gave it (the latest attempt's).
    public var address: String
    /// Unix milliseconds of the first and the latest refused handshake.
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// Refused handshakes counted so far (each agent connection makes two: command and heartbeat socket).
    public var attempts: Int

    public init(key: CurveKey, address: String, firstSeen: Int64, lastSeen: Int64, attempts: Int) {
        self.key = key
        self.address = address
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.attempts = attempts
    }

    public var fingerprint: String { key.fingerprint }

    /// The file name of the record: the full fingerprint and `.json`.
    var fileName: String { fingerprint + PendingKey.suffix }
    static let suffix = ".json"
    /// A record is a few hundred bytes; anything larger is not one of ours.
    static let maxFileBytes = 4096

    public var jsonValue: JSONValue {
        [
            "public_key": JSONValue(key.z85), "fingerprint": JSONValue(fingerprint),
            "address": JSONValue(address), "first_seen_ms": JSONValue(Int(firstSeen)),
            "last_seen_ms": JSONValue(Int(lastSeen)), "attempts": JSONValue(attempts),
        ]
    }

    var fileBytes: [UInt8] { PythonJSONEncoder(sortKeys: true).encode(jsonValue) + [0x0A] }

    /// Reads a record written by ``fileBytes``; `nil` for anything else (including a fingerprint that does not
    /// match the key).
    init?(fileBytes bytes: [UInt8]) {
        guard let object = (try? JSONParser.parse(bytes))?.objectValue,
            let z85 = object["public_key"]?.stringValue, let key = try? CurveKey(z85: z85),
            let address = object["address"]?.stringValue, address.utf8.count <= 256,
            let first = object["first_seen_ms"]?.intValue, let last = object["last_seen_ms"]?.intValue,
            let attempts = object["attempts"]?.intValue, attempts >= 0
        else { return nil }
        if let fingerprint = object["fingerprint"]?.stringValue, fingerprint != key.fingerprint { return nil }
        self.init(key: key, address: address, firstSeen: Int64(first), lastSeen: Int64(last), attempts: attempts)
    }
}
