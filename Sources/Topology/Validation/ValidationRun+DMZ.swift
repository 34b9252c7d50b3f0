import DecnetJSON

/// Rules 1 and 2: exactly one DMZ, and every LAN reachable from it through multi-homed deckies.
extension ValidationRun {
    /// Rule 1: DMZ_MISSING when no LAN has a truthy `is_dmz`, DMZ_MULTIPLE (one issue) when two or more do.
    mutating func checkExactlyOneDMZ() {
        guard let lans = rows("lans") else { return }
        let dmzs = lans.filter { $0["is_dmz"]?.isTruthy ?? false }
        if dmzs.count == 1 { return }
        if dmzs.isEmpty {
            out.error(
                "DMZ_MISSING",
                "the topology has no DMZ: exactly one LAN must have a truthy is_dmz, and none has"
            )
            return
        }
        var names: [JSONValue] = []
        for lan in dmzs {
            if let name = member(lan, "name") { names.append(name) }
        }
        out.error(
            "DMZ_MULTIPLE",
            "\(dmzs.count) LANs have a truthy is_dmz (\(IssueText.list(names))); a topology must have exactly one DMZ",
            target: ["lans": .array(names)]
        )
    }

    /// Rule 2: DMZ_ORPHAN (one issue) listing every LAN that no chain of multi-homed deckies connects to the first
    /// DMZ LAN. Skipped when there are no LANs or no DMZ (rule 1 reports that).
    mutating func checkLANsReachDMZ() {
        guard let lans = rows("lans") else { return }
        // LANs by id, as a Python dict: a repeated id keeps its first position and takes the later row.
        var ordinal: [PyKey: Int] = [:]
        var indexed: [Row] = []
        for lan in lans {
            guard let id = keyMember(lan, "id") else { continue }
            if let at = ordinal[id.key] {
                indexed[at] = lan
            } else {
                ordinal[id.key] = indexed.count
                indexed.append(lan)
            }
        }
        if indexed.isEmpty { return }
        guard let dmz = lans.first(where: { $0["is_dmz"]?.isTruthy ?? false }) else { return }
        // A first DMZ without a usable id was reported above; without it there is no start for the search.
        guard let dmzID = dmz["id"].flatMap(PyKey.init), let start = ordinal[dmzID] else { return }
        guard let edges = rows("edges") else { return }

        // decky uuid → its distinct LAN ids (first-seen order), each with the edges that name it.
        struct Attachment {
            var lan: PyKey
            var edges: [(index: Int, lanID: JSONValue)]
        }
        struct Pair: Hashable {
            var decky: Int
            var lan: PyKey
        }
        var deckyOrdinal: [PyKey: Int] = [:]
        var deckyLANs: [[Attachment]] = []
        var attachmentAt: [Pair: Int] = [:]
        for edge in edges {
            guard let decky = keyMember(edge, "decky_uuid") else { continue }
            let d: Int
            if let known = deckyOrdinal[decky.key] {
                d = known
            } else {
                d = deckyLANs.count
                deckyOrdinal[decky.key] = d
                deckyLANs.append([])
            }
            guard let lan = keyMember(edge, "lan_id") else { continue }
            let pair = Pair(decky: d, lan: lan.key)
            if let at = attachmentAt[pair] {
                deckyLANs[d][at].edges.append((edge.index, lan.value))
            } else {
                attachmentAt[pair] = deckyLANs[d].count
                deckyLANs[d].append(Attachment(lan: lan.key, edges: [(edge.index, lan.value)]))
            }
        }

        // Bipartite graph LAN ↔ multi-homed decky: the same reachability as DECNET's LAN-to-LAN clique, in linear
        // size. An unknown lan_id on a multi-homed decky is where Python raises KeyError.
        var lanDeckies = [[Int]](repeating: [], count: indexed.count)
        var deckyMembers = [[Int]](repeating: [], count: deckyLANs.count)
        var unknownEdges: [(index: Int, lanID: JSONValue)] = []
        for (d, attached) in deckyLANs.enumerated() where attached.count >= 2 {
            for attachment in attached {
                if let l = ordinal[attachment.lan] {
                    lanDeckies[l].append(d)
                    deckyMembers[d].append(l)
                } else {
                    unknownEdges.append(contentsOf: attachment.edges)
                }
            }
        }
        for edge in unknownEdges.sorted(by: { $0.index < $1.index }) {
            out.malformed(
                JSONPointer.root.appending("edges").appending(edge.index).appending("lan_id"),
                "lan_id \(IssueText.quote(edge.lanID)) is not the id of any LAN, and its decky is attached to"
                    + " several LANs"
            )
        }

        var reached = [Bool](repeating: false, count: indexed.count)
        var deckySeen = [Bool](repeating: false, count: deckyLANs.count)
        reached[start] = true
        var frontier = [start]
        while let l = frontier.popLast() {
            for d in lanDeckies[l] where !deckySeen[d] {
                deckySeen[d] = true
                for peer in deckyMembers[d] where !reached[peer] {
                    reached[peer] = true
                    frontier.append(peer)
                }
            }
        }

        // Python joins the orphan names into its message, so a name that is missing or not a string raises there.
        var orphans: [JSONValue] = []
        for (l, lan) in indexed.enumerated() where !reached[l] {
            guard let name = member(lan, "name") else { continue }
            guard case .string = name else {
                out.malformed(lan.path.appending("name"), "LAN name must be a string, found \(name.typeName)")
                continue
            }
            orphans.append(name)
        }
        guard !orphans.isEmpty else { return }
        out.error(
            "DMZ_ORPHAN",
            "no chain of multi-homed deckies connects these LANs to the DMZ \(IssueText.quote(dmz["name"] ?? .null)): "
                + IssueText.list(orphans),
            target: ["lans": .array(orphans)]
        )
    }
}
