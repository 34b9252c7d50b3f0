import DecnetJSON

extension JSONValue {
    /// Whether the value is a number (integer or float).
    var isNumber: Bool {
        switch self {
        case .integer, .float: true
        default: false
        }
    }
}
