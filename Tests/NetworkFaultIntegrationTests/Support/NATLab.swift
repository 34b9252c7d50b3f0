import Foundation
import Synchronization

/// Three network namespaces made by the test, wired as a master on the internet and an agent behind a home-style
/// NAT. Only documentation address ranges are used (RFC 5737), and no namespace has a route to anything outside
/// the lab, so no packet can leave the machine.
///
/// ```
///   master ns                      nat ns                                  agent ns
///   198.51.100.1/24 ── veth ── 198.51.100.2/24 (WAN)   (LAN) 192.0.2.1/24 ── veth ── 192.0.2.2/24
///   route 192.0.2.0/24 via NAT     MASQUERADE out of WAN; WAN→LAN only        default via 192.0.2.1
///                                  ESTABLISHED,RELATED; nothing NEW in
/// ```
/// The master has a route to the agent's LAN, so a refused connection proves the NAT's firewall, not a missing
/// route.
struct NATLab: Sendable {
    static let masterAddress = "198.51.100.1"
    static let natWANAddress = "198.51.100.2"
    static let natLANAddress = "192.0.2.1"
    static let agentAddress = "192.0.2.2"
    /// Namespace names start with this; leftovers of killed runs are removed by ``removeStale()``.
    static let prefix = "dnl-"

    let tag: String
    var master: String { "\(Self.prefix)\(tag)-master" }
    var nat: String { "\(Self.prefix)\(tag)-nat" }
    var agent: String { "\(Self.prefix)\(tag)-agent" }
    /// Interface names (at most 15 bytes: the tag is at most 7 + 1 + 3 digits).
    var masterLink: String { "dn\(tag)m" }
    var wanLink: String { "dn\(tag)w" }
    var lanLink: String { "dn\(tag)l" }
    var agentLink: String { "dn\(tag)a" }

    private static let counter = Mutex(0)

    /// Builds the lab; on any failure removes what was made and throws.
    static func create() async throws -> NATLab {
        let number = counter.withLock { value -> Int in
            value += 1
            return value
        }
        let lab = NATLab(tag: "\(getpid())x\(number)")
        do {
            try await lab.build()
        } catch {
            await lab.destroy()
            throw error
        }
        return lab
    }

    private func build() async throws {
        for ns in [master, nat, agent] {
            try await Shell.check(["ip", "netns", "add", ns])
            try await inside(ns, ["ip", "link", "set", "lo", "up"])
        }
        try await Shell.check(["ip", "link", "add", masterLink, "type", "veth", "peer", "name", wanLink])
        try await Shell.check(["ip", "link", "set", masterLink, "netns", master])
        try await Shell.check(["ip", "link", "set", wanLink, "netns", nat])
        try await Shell.check(["ip", "link", "add", lanLink, "type", "veth", "peer", "name", agentLink])
        try await Shell.check(["ip", "link", "set", lanLink, "netns", nat])
        try await Shell.check(["ip", "link", "set", agentLink, "netns", agent])
        for (ns, link, address) in [
            (master, masterLink, Self.masterAddress), (nat, wanLink, Self.natWANAddress),
            (nat, lanLink, Self.natLANAddress), (agent, agentLink, Self.agentAddress),
        ] {
            try await inside(ns, ["ip", "addr", "add", address + "/24", "dev", link])
            try await inside(ns, ["ip", "link", "set", link, "up"])
        }
        try await inside(master, ["ip", "route", "add", "192.0.2.0/24", "via", Self.natWANAddress])
        try await inside(agent, ["ip", "route", "add", "default", "via", Self.natLANAddress])
        // /proc/sys/net belongs to the namespace of the process that writes it (no procps needed for sysctl).
        try await inside(nat, ["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"])
        for rule in [
            ["-t", "nat", "-A", "POSTROUTING", "-o", wanLink, "-j", "MASQUERADE"],
            ["-P", "FORWARD", "DROP"],
            ["-A", "FORWARD", "-i", lanLink, "-o", wanLink, "-j", "ACCEPT"],
            [
                "-A", "FORWARD", "-i", wanLink, "-o", lanLink, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED",
                "-j", "ACCEPT",
            ],
            [
                "-A", "FORWARD", "-i", wanLink, "-o", lanLink, "-m", "comment", "--comment", "unsolicited-in",
                "-j", "DROP",
            ],
            ["-A", "INPUT", "-i", wanLink, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"],
            ["-A", "INPUT", "-i", wanLink, "-m", "comment", "--comment", "unsolicited-to-nat", "-j", "DROP"],
        ] {
            try await inside(nat, ["iptables", "-w"] + rule)
        }
    }

    /// Runs a command inside namespace `ns` (throws unless it exits 0).
    @discardableResult
    func inside(_ ns: String, _ arguments: [String], timeout: Double = 30) async throws -> CommandOutput {
        try await Shell.check(["ip", "netns", "exec", ns] + arguments, timeout: timeout)
    }

    /// The arguments that start `arguments` inside namespace `ns` (for long-running processes).
    func command(in ns: String, _ arguments: [String]) -> [String] { ["ip", "netns", "exec", ns] + arguments }

    /// How the link is cut.
    enum Cut: String, Sendable, CaseIterable, CustomStringConvertible {
        /// The NAT drops everything it would forward, both ways (a dead uplink: packets vanish).
        case firewall
        /// The agent's own interface goes down (its route disappears: connects fail at once).
        case linkDown

        var description: String { rawValue }
    }

    func cut(_ how: Cut) async throws {
        switch how {
        case .firewall:
            try await inside(
                nat,
                [
                    "iptables", "-w", "-I", "FORWARD", "1", "-m", "comment", "--comment", "partition",
                    "-j", "DROP",
                ]
            )
        case .linkDown:
            try await inside(agent, ["ip", "link", "set", agentLink, "down"])
        }
    }

    func heal(_ how: Cut) async throws {
        switch how {
        case .firewall:
            try await inside(
                nat,
                [
                    "iptables", "-w", "-D", "FORWARD", "-m", "comment", "--comment", "partition",
                    "-j", "DROP",
                ]
            )
        case .linkDown:
            try await inside(agent, ["ip", "link", "set", agentLink, "up"])
            // The default route went with the link.
            try await inside(agent, ["ip", "route", "replace", "default", "via", Self.natLANAddress])
        }
    }

    /// Packets counted by the NAT's rule with `comment` in `chain`.
    func packets(chain: String, comment: String) async throws -> Int {
        let listing = try await inside(nat, ["iptables", "-w", "-L", chain, "-v", "-n", "-x"]).stdout
        for line in listing.split(separator: "\n") where line.contains("/* \(comment) */") {
            return Int(line.split(separator: " ").first ?? "") ?? 0
        }
        throw ShellFailure(description: "no \(comment) rule in \(chain):\n\(listing)")
    }

    /// Removes the namespaces (their veths go with them); errors are ignored.
    func destroy() async {
        for ns in [agent, nat, master] { _ = try? await Shell.run(["ip", "netns", "del", ns]) }
    }

    /// Removes lab namespaces left by test processes that no longer exist.
    static func removeStale() async {
        guard let listing = try? await Shell.run(["ip", "netns", "list"]) else { return }
        for line in listing.stdout.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix(prefix) else { continue }
            // The tag is the creating test process's pid, "x", a counter.
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0.isNumber }), kill(pid, 0) != 0 else {
                continue
            }
            _ = try? await Shell.run(["ip", "netns", "del", name])
        }
    }

    /// Whether this machine lets the test make namespaces (root with CAP_SYS_ADMIN, `ip` and `iptables`).
    static let isAvailable: Bool = {
        let name = "\(prefix)probe-\(getpid())"
        func run(_ arguments: [String]) -> Bool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return false }
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
        let made = run(["ip", "netns", "add", name])
        let filtered = made && run(["ip", "netns", "exec", name, "iptables", "-w", "-L", "-n"])
        if made { _ = run(["ip", "netns", "del", name]) }
        return filtered
    }()
}
