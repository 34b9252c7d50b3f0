import DecnetJSON

/// Writes a compose document as block-style YAML that Docker Compose and PyYAML's `yaml.safe_load` read back to the
/// same data.
///
/// Layout follows PyYAML's `default_flow_style=False` (2-space indent, sequences not indented under their key,
/// `{}`/`[]` for empty collections) without anchors. Strings stay plain only when no YAML 1.1 or 1.2 resolver could
/// read them as anything but a string; all others are double-quoted with escapes, so the file is pure ASCII and
/// `'22:22'`-style sexagesimal look-alikes, `'5'`, `yes`, `null` or multi-line text survive.
public enum ComposeYAML {
    public static func render(_ document: JSONValue) -> String {
        var lines: [String] = []
        switch document {
        case .object(let o) where !o.isEmpty: writeMapping(o, indent: 0, into: &lines)
        case .array(let a) where !a.isEmpty: writeSequence(a, indent: 0, into: &lines)
        default: lines.append(YAMLScalar.inline(document))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func writeMapping(_ o: JSONObject, indent: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        for (key, value) in o.members {
            let head = pad + YAMLScalar.string(key.value) + ":"
            switch value {
            case .object(let child) where !child.isEmpty:
                lines.append(head)
                writeMapping(child, indent: indent + 2, into: &lines)
            case .array(let child) where !child.isEmpty:
                lines.append(head)
                writeSequence(child, indent: indent, into: &lines)
            default:
                lines.append(head + " " + YAMLScalar.inline(value))
            }
        }
    }

    /// Items at `indent` as `- item`; a nested collection starts on the dash line (`- key: v`, `- - x`).
    static func writeSequence(_ a: [JSONValue], indent: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        for item in a {
            var nested: [String] = []
            switch item {
            case .object(let child) where !child.isEmpty:
                writeMapping(child, indent: indent + 2, into: &nested)
            case .array(let child) where !child.isEmpty:
                writeSequence(child, indent: indent + 2, into: &nested)
            default:
                lines.append(pad + "- " + YAMLScalar.inline(item))
                continue
            }
            // The first nested line starts with indent + 2 spaces: put the dash in the first two.
            nested[0] = pad + "- " + String(nested[0].dropFirst(indent + 2))
            lines.append(contentsOf: nested)
        }
    }
}
