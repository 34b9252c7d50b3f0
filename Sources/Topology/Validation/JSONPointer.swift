/// An RFC 6901 JSON pointer into the validated document, e.g. `/lans/2/subnet`; the root is the empty pointer.
///
/// MALFORMED issues carry one as `target.path` so the master can point at the broken member without parsing text.
struct JSONPointer: Hashable, Sendable, CustomStringConvertible {
    private(set) var text: String

    static let root = JSONPointer(text: "")

    private init(text: String) { self.text = text }

    /// The pointer to member `key` of the object at `self` (`~` and `/` escaped as `~0` and `~1`).
    func appending(_ key: String) -> JSONPointer {
        var escaped = ""
        escaped.reserveCapacity(key.utf8.count)
        for ch in key.unicodeScalars {
            switch ch {
            case "~": escaped += "~0"
            case "/": escaped += "~1"
            default: escaped.unicodeScalars.append(ch)
            }
        }
        return JSONPointer(text: text + "/" + escaped)
    }

    /// The pointer to element `index` of the array at `self`.
    func appending(_ index: Int) -> JSONPointer {
        JSONPointer(text: text + "/" + String(index))
    }

    var description: String { text }
}
