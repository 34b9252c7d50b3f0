import DecnetJSON

/// Rules 5 and 6: the deckies' IPs against their LANs, and the LAN subnets against each other.
extension ValidationRun {
    /// Rule 5, per decky and per `(lan, ip)` of `decky_config.ips_by_lan` in order: IP_UNKNOWN_LAN when no LAN has
    /// that name (the last LAN of a name wins), IP_MALFORMED when the IP or that LAN's subnet does not parse (then no
    /// collision check), IP_OUT_OF_SUBNET when the IP lies outside the subnet (the collision check still runs), and
    /// IP_COLLISION when an earlier decky already claimed the same IP value in that LAN.
    mutating func checkIPs() {
        guard let lans = rows("lans") else { return }
        var lansByName: [PyKey: Row] = [:]
        for lan in lans {
            if let name = keyMember(lan, "name") { lansByName[name.key] = lan }
        }
        guard let deckies = rows("deckies") else { return }
        var owners: [JSONString: [PyKey: JSONValue]] = [:]  // LAN name → IP → first claimant's name
        for decky in deckies {
            if out.isTruncated { return }
            guard let claims = ipsByLAN(decky), !claims.isEmpty else { continue }
            // Every path through DECNET's loop body reads the decky name (or raises on the subnet first).
            guard let name = member(decky, "name") else { continue }
            for (lanName, ip) in claims.members {
                if out.isTruncated { return }
                checkClaim(decky: name, lanName: lanName, ip: ip, lansByName: lansByName, owners: &owners)
            }
        }
    }

    /// `(d.get("decky_config") or {}).get("ips_by_lan", {})`, which must then be an object (`.items()`).
    private mutating func ipsByLAN(_ decky: Row) -> JSONObject? {
        guard let config = deckyConfig(decky) else { return nil }
        guard let value = config["ips_by_lan"] else { return JSONObject() }
        if case .object(let o) = value { return o }
        out.malformed(
            decky.path.appending("decky_config").appending("ips_by_lan"),
            "ips_by_lan must be an object mapping LAN names to IPs, found \(value.typeName)"
        )
        return nil
    }

    private mutating func checkClaim(
        decky name: JSONValue,
        lanName: JSONString,
        ip: JSONValue,
        lansByName: [PyKey: Row],
        owners: inout [JSONString: [PyKey: JSONValue]]
    ) {
        let lanValue = JSONValue.string(lanName)
        guard let lan = lansByName[PyKey(string: lanName)] else {
            out.error(
                "IP_UNKNOWN_LAN",
                "decky \(IssueText.quote(name)) has an IP for LAN \(IssueText.quote(lanName)), but no LAN has that"
                    + " name",
                target: ["decky": name, "lan": lanValue]
            )
            return
        }
        let address: IPv4Address
        switch IPv4Address.parse(ip) {
        case .success(let a): address = a
        case .failure(let e):
            out.error(
                "IP_MALFORMED",
                "decky \(IssueText.quote(name)): IP \(IssueText.quote(ip)) in LAN \(IssueText.quote(lanName)) is not"
                    + " a valid IPv4 address (\(e.reason))",
                target: ["decky": name, "ip": ip]
            )
            return
        }
        guard let subnet = member(lan, "subnet") else { return }
        switch IPv4Network.parse(subnet) {
        case .failure:
            out.error(
                "IP_MALFORMED",
                "decky \(IssueText.quote(name)): IP \(IssueText.quote(ip)) cannot be checked because LAN"
                    + " \(IssueText.quote(lanName)) has a malformed subnet \(IssueText.quote(subnet))",
                target: ["decky": name, "ip": ip]
            )
            return
        case .success(let network):
            if !network.contains(address) {
                out.error(
                    "IP_OUT_OF_SUBNET",
                    "decky \(IssueText.quote(name)): IP \(address) lies outside subnet \(network) of LAN"
                        + " \(IssueText.quote(lanName))",
                    target: ["decky": name, "lan": lanValue, "ip": ip]
                )
            }
        }
        // The IP parsed, so it is a string, an integer or a boolean: always hashable.
        guard let ipKey = PyKey(ip) else { return }
        if let owner = owners[lanName, default: [:]][ipKey] {
            out.error(
                "IP_COLLISION",
                "IP \(IssueText.quote(ip)) in LAN \(IssueText.quote(lanName)) is claimed by decky"
                    + " \(IssueText.quote(owner)) and again by decky \(IssueText.quote(name))",
                target: ["lan": lanValue, "ip": ip, "deckies": [owner, name]]
            )
        } else {
            owners[lanName, default: [:]][ipKey] = name
        }
    }

    /// Rule 6: SUBNET_MALFORMED for every LAN whose subnet does not parse, then SUBNET_OVERLAP for every pair i < j
    /// (list order) of well-formed subnets that share addresses, identical ones included.
    mutating func checkSubnets() {
        guard let lans = rows("lans") else { return }
        var names: [JSONValue] = []
        var networks: [IPv4Network] = []
        for lan in lans {
            if out.isTruncated { return }
            let name = member(lan, "name")
            let subnet = member(lan, "subnet")
            guard let name, let subnet else { continue }
            switch IPv4Network.parse(subnet) {
            case .success(let n):
                names.append(name)
                networks.append(n)
            case .failure(let e):
                out.error(
                    "SUBNET_MALFORMED",
                    "LAN \(IssueText.quote(name)): subnet \(IssueText.quote(subnet)) is not a valid IPv4 network"
                        + " (\(e.reason))",
                    target: ["lan": name]
                )
            }
        }
        SubnetOverlapFinder(networks).forEachOverlap { i, j in
            out.error(
                "SUBNET_OVERLAP",
                "subnets overlap: LAN \(IssueText.quote(names[i])) has \(networks[i]) and LAN"
                    + " \(IssueText.quote(names[j])) has \(networks[j])",
                target: ["lans": [names[i], names[j]]]
            )
            return !out.isTruncated
        }
    }
}
