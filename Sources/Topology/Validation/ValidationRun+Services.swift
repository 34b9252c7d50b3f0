import DecnetJSON

/// Rules 7 and 8: every service is a known plugin, and `service_config` only configures declared services.
extension ValidationRun {
    /// Rule 7: UNKNOWN_SERVICE for each element of the decky row's `services` (missing: none) that is not a known,
    /// non-fleet-singleton service name. Python iterates the value, so a string yields its characters.
    mutating func checkServicesKnown() {
        guard let deckies = rows("deckies") else { return }
        for decky in deckies {
            guard let services = services(decky) else { continue }
            for (k, service) in services.enumerated() {
                if out.isTruncated { return }
                guard let key = PyKey(service) else {
                    unhashableElement(decky.path.appending("services"), k, service, role: "a service name")
                    continue
                }
                if known.contains(key) { continue }
                guard let name = member(decky, "name") else { break }
                out.error(
                    "UNKNOWN_SERVICE",
                    "decky \(IssueText.quote(name)) asks for service \(IssueText.quote(service)), which is not a"
                        + " known service",
                    target: ["decky": name, "service": service]
                )
            }
        }
    }

    /// Rule 8: SERVICE_CFG_UNDECLARED for each entry of `decky_config.service_config` (missing, null or falsy:
    /// none; iterated, so a list yields its elements) that is not among the row's `services`.
    mutating func checkServiceConfigDeclared() {
        guard let deckies = rows("deckies") else { return }
        for decky in deckies {
            if out.isTruncated { return }
            guard let config = deckyConfig(decky) else { continue }
            var configured: JSONValue? = config["service_config"]
            if configured?.isTruthy != true { configured = Optional.none }  // missing, null or falsy: nothing
            // Python builds the declared set before it looks at the entries.
            guard let services = services(decky) else { continue }
            var declared: Set<PyKey> = []
            for (k, service) in services.enumerated() {
                if let key = PyKey(service) {
                    declared.insert(key)
                } else {
                    unhashableElement(decky.path.appending("services"), k, service, role: "a service name")
                }
            }
            guard let configured else { continue }
            let configPath = decky.path.appending("decky_config").appending("service_config")
            guard let entries = configured.pythonIteration else {
                out.malformed(
                    configPath,
                    "service_config must be an object keyed by service name, found \(configured.typeName)"
                )
                continue
            }
            for (k, service) in entries.enumerated() {
                if out.isTruncated { return }
                guard let key = PyKey(service) else {
                    unhashableElement(configPath, k, service, role: "a service_config entry")
                    continue
                }
                if declared.contains(key) { continue }
                guard let name = member(decky, "name") else { break }
                out.error(
                    "SERVICE_CFG_UNDECLARED",
                    "decky \(IssueText.quote(name)) has service_config for \(IssueText.quote(service)), which is not"
                        + " in its services list",
                    target: ["decky": name, "service": service]
                )
            }
        }
    }
}
