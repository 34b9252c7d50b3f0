import DecnetJSON
import Hashing

/// DECNET's topology version hash: SHA-256 of the canonical JSON of the hydrated topology with the volatile keys
/// removed at every depth (`json.dumps(strip(h), sort_keys=True, separators=(",", ":"))`), as 64 lowercase hex digits.
public enum CanonicalHash {
    /// Keys whose values never affect the hash, wherever they appear as object keys.
    public static let volatileKeys: [String] = [
        "created_at", "status_changed_at", "updated_at", "last_seen", "status", "version", "last_error",
        "x", "y", "w", "h",
    ]

    /// True when `key` is one of the 11 volatile keys (exact, case-sensitive).
    @inline(__always)
    public static func isVolatile(_ key: JSONString) -> Bool {
        let u = key.value.utf8
        switch u.count {
        case 1:
            let c = u.first!
            return c == UInt8(ascii: "x") || c == UInt8(ascii: "y") || c == UInt8(ascii: "w") || c == UInt8(ascii: "h")
        case 6: return u.elementsEqual("status".utf8)
        case 7: return u.elementsEqual("version".utf8)
        case 9: return u.elementsEqual("last_seen".utf8)
        case 10:
            return u.elementsEqual("created_at".utf8) || u.elementsEqual("updated_at".utf8)
                || u.elementsEqual("last_error".utf8)
        case 17: return u.elementsEqual("status_changed_at".utf8)
        default: return false
        }
    }

    /// The exact ASCII bytes DECNET hashes.
    public static func canonicalBytes(_ hydrated: JSONValue) -> [UInt8] {
        CanonicalWriter.canonicalBytes(hydrated, dropKey: isVolatile)
    }

    /// The 64-hex canonical hash of a hydrated topology. Never mutates its input.
    public static func hash(_ hydrated: JSONValue) -> String {
        CanonicalWriter.withCanonicalBytes(hydrated, dropKey: isVolatile) { SHA256.hexString(SHA256.digest($0)) }
    }
}
