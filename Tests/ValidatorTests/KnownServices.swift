import DecnetJSON

/// The 27 registered, non-fleet-singleton service names of the seed (DECNET's service plugins, docs/catalog.md);
/// `sniffer` is deliberately absent.
enum KnownServices {
    static let names: Set<JSONString> = Set(
        [
            "conpot", "docker_api", "elasticsearch", "ftp", "http", "https", "imap", "k8s", "ldap", "llmnr", "mongodb",
            "mqtt", "mssql", "mysql", "pop3", "postgres", "rdp", "redis", "sip", "smb", "smtp", "smtp_relay", "snmp",
            "ssh", "telnet", "tftp", "vnc",
        ].map { (s: String) in JSONString(s) }
    )
}
