import DecnetJSON

extension JSONValue {
    /// A string-to-string map (labels, event attributes); members that are not strings are left out.
    var dockerStringMap: [String: String] {
        guard let object = objectValue else { return [:] }
        var map: [String: String] = [:]
        for (key, value) in object.members {
            if let text = value.stringValue { map[key.value] = text }
        }
        return map
    }

    /// An array of strings; elements that are not strings are left out, `null` is empty.
    var dockerStrings: [String] {
        arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// A required string member, or a `protocol` error naming what Docker left out.
    func dockerRequiredString(_ key: String, in operation: String) throws(DockerError) -> String {
        guard let text = self[key]?.stringValue else {
            throw DockerError(.protocol, operation: operation, message: "the answer has no string \(key): \(jsonText)")
        }
        return text
    }
}
