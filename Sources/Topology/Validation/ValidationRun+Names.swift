import DecnetJSON

/// Rules 3 and 4: every decky has an edge, and LAN and decky names are unique.
extension ValidationRun {
    /// Rule 3: DECKY_ORPHAN for every decky whose `uuid` is no edge's `decky_uuid`.
    mutating func checkDeckiesHaveEdges() {
        guard let edges = rows("edges") else { return }
        var attached: Set<PyKey> = []
        for edge in edges {
            if let decky = keyMember(edge, "decky_uuid") { attached.insert(decky.key) }
        }
        guard let deckies = rows("deckies") else { return }
        for decky in deckies {
            if out.isTruncated { return }
            guard let uuid = keyMember(decky, "uuid"), !attached.contains(uuid.key) else { continue }
            guard let name = member(decky, "name") else { continue }
            out.error(
                "DECKY_ORPHAN",
                "decky \(IssueText.quote(name)) is not attached to any LAN: no edge names its uuid",
                target: ["decky": name]
            )
        }
    }

    /// Rule 4: LAN_NAME_DUP for every LAN whose `name` an earlier LAN already has, then DECKY_NAME_DUP likewise for
    /// the deckies' row `name` (not `decky_config.name`).
    mutating func checkNamesUnique() {
        if let lans = rows("lans") {
            var seen: Set<PyKey> = []
            for lan in lans {
                if out.isTruncated { return }
                guard let name = keyMember(lan, "name") else { continue }
                if !seen.insert(name.key).inserted {
                    out.error(
                        "LAN_NAME_DUP",
                        "LAN name \(IssueText.quote(name.value)) is used by more than one LAN",
                        target: ["lan": name.value]
                    )
                }
            }
        }
        if let deckies = rows("deckies") {
            var seen: Set<PyKey> = []
            for decky in deckies {
                if out.isTruncated { return }
                guard let name = keyMember(decky, "name") else { continue }
                if !seen.insert(name.key).inserted {
                    out.error(
                        "DECKY_NAME_DUP",
                        "decky name \(IssueText.quote(name.value)) is used by more than one decky",
                        target: ["decky": name.value]
                    )
                }
            }
        }
    }
}
