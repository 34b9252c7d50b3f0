import DecnetJSON

/// One service's entry of `decky_config.service_config` as DECNET's plugins see it after `service_cfg or {}`.
///
/// The plugins never check the type of that value; they only ask `knob in cfg`, then read `cfg[knob]`, or call
/// `cfg.get(knob, default)`. Python answers each of those by the value's own type, so a value that is not an object
/// still composes as long as no question it cannot answer is asked:
/// * a falsy value (missing, null, `false`, `0`, `""`, `[]`, `{}`) is an empty object;
/// * a non-empty string answers `in` with a substring test, and raises on `cfg[knob]` and on `.get`;
/// * a non-empty list answers `in` by comparing its elements, and raises on `cfg[knob]` and on `.get`;
/// * `true` and non-zero numbers raise on `in` and on `.get`.
/// A plugin that reads no knob (ftp, conpot, ...) composes whatever the value is.
enum ServiceKnobs {
    case mapping(JSONObject)
    case text(String)
    case list([JSONValue])
    case scalar(JSONValue)

    /// `service_cfg or {}` for the value found under the service's name (nil when there is none).
    init(_ value: JSONValue?) {
        guard let value, value.isTruthy else {
            self = .mapping(JSONObject())
            return
        }
        switch value {
        case .object(let o): self = .mapping(o)
        case .string(let s): self = .text(s.value)
        case .array(let a): self = .list(a)
        case .null, .bool, .integer, .float: self = .scalar(value)
        }
    }

    /// Why Python raises on a question about this value, in words, or nil when it is an object.
    private var refusal: String? {
        switch self {
        case .mapping: return nil
        case .text: return "a string"
        case .list: return "a list"
        case .scalar(let v): return "of type \(v.typeName)"
        }
    }

    /// `if knob in cfg: ... cfg[knob]`: the knob's value when present, nil when absent. Throws where Python raises:
    /// `in` on a number or `true`, or indexing a string or list by a knob name it contains.
    func ifPresent(_ knob: String, service: JSONString, at path: String) throws(ComposeError) -> JSONValue? {
        switch self {
        case .mapping(let o):
            return o[knob]
        case .text(let s):
            guard s.containsScalars(knob) else { return nil }
        case .list(let elements):
            guard elements.contains(where: { $0.stringValue?.sameScalars(as: knob) == true }) else { return nil }
        case .scalar:
            break
        }
        throw ComposeError(
            .malformed,
            "the \(PythonText.reprString(service.value)) plugin looks up knob \(PythonText.reprString(knob)) in its"
                + " service_config, which is \(refusal ?? "an object") and cannot be read that way",
            path: path
        )
    }

    /// `cfg.get(knob, default)`: only an object has `.get`.
    func get(
        _ knob: String,
        default value: JSONValue,
        service: JSONString,
        at path: String
    ) throws(ComposeError)
        -> JSONValue
    {
        guard case .mapping(let o) = self else {
            throw ComposeError(
                .malformed,
                "the \(PythonText.reprString(service.value)) plugin reads knob \(PythonText.reprString(knob)) with"
                    + " .get, so its service_config must be an object, not \(refusal ?? "an object")",
                path: path
            )
        }
        return o[knob] ?? value
    }
}
