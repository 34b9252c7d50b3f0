import DecnetJSON
import Foundation
import TestSupport

/// What Docker holds for a topology, read with the `docker` CLI from outside the agent (by the topology label the
/// agent puts on everything), and the clean-up of what a test left behind.
enum DockerProbe {
    static let topologyLabel = "decnet.topology.id"
    /// The label the test build contexts put on their images, with the world's token as value.
    static let testTokenLabel = "decnet.test.token"
    static let busyboxImage = "decnet-test/busybox:latest"

    struct Container: Sendable, Equatable {
        var id: String
        var name: String
        var state: String
    }

    static var docker: String? { findExecutable("docker") }

    /// Runs `docker args...`; throws with Docker's message when it fails.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        guard let docker else { throw FaultTestError("the docker CLI is not installed") }
        let output = try ProcessRunner.run(docker, arguments)
        guard output.status == 0 else {
            throw FaultTestError("docker \(arguments.joined(separator: " ")): \(output.stderr.prefix(400))")
        }
        return output.stdoutText
    }

    /// Whether dockerd answers and the local test image is present (scripts/docker-test-env.sh builds it).
    static var ready: Bool {
        guard docker != nil else { return false }
        return (try? run(["image", "inspect", "--format", "{{.Id}}", busyboxImage])) != nil
    }

    /// Every container labelled with the topology, whatever its state, by name.
    static func containers(_ topologyID: String) throws -> [String: Container] {
        let text = try run([
            "ps", "-a", "--no-trunc", "--filter", "label=\(topologyLabel)=\(topologyID)", "--format",
            "{{.ID}}\t{{.Names}}\t{{.State}}",
        ])
        var result: [String: Container] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t").map(String.init)
            guard parts.count == 3 else { continue }
            result[parts[1]] = Container(id: parts[0], name: parts[1], state: parts[2])
        }
        return result
    }

    /// Names of the running containers labelled with the topology.
    static func runningNames(_ topologyID: String) throws -> Set<String> {
        Set(try containers(topologyID).values.filter { $0.state == "running" }.map(\.name))
    }

    /// The networks labelled with the topology: name to id.
    static func networks(_ topologyID: String) throws -> [String: String] {
        let text = try run([
            "network", "ls", "--no-trunc", "--filter", "label=\(topologyLabel)=\(topologyID)", "--format",
            "{{.ID}}\t{{.Name}}",
        ])
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t").map(String.init)
            if parts.count == 2 { result[parts[1]] = parts[0] }
        }
        return result
    }

    /// Removes every container and network labelled with the topology (after a test, whatever happened).
    static func removeTopology(_ topologyID: String) {
        if let ids = try? containers(topologyID).values.map(\.id), !ids.isEmpty {
            _ = try? run(["rm", "-f", "-v"] + ids)
        }
        if let ids = try? networks(topologyID).values, !ids.isEmpty {
            _ = try? run(["network", "rm"] + ids)
        }
    }

    /// Removes the images built from the test's contexts (tagged or left dangling by an interrupted build).
    static func removeImages(token: String) {
        let filter = "label=\(testTokenLabel)=\(token)"
        if let text = try? run(["images", "-a", "-q", "--no-trunc", "--filter", filter]) {
            let ids = Array(Set(text.split(separator: "\n").map(String.init)))
            if !ids.isEmpty { _ = try? run(["rmi", "-f"] + ids) }
        }
    }

    /// The IPv4 subnets of every Docker network, as (network address, prefix length).
    static func usedSubnets() -> [(UInt32, Int)] {
        guard let ids = try? run(["network", "ls", "-q"]).split(separator: "\n").map(String.init), !ids.isEmpty,
            let text = try? run(["network", "inspect"] + ids),
            let networks = try? JSONParser.parse(text).arrayValue
        else { return [] }
        return networks.flatMap { network in
            (network["IPAM"]?["Config"]?.arrayValue ?? []).compactMap { config in
                config["Subnet"]?.stringValue.flatMap(IPv4CIDR.parse)
            }
        }
    }

    /// `count` distinct /24 subnets in 10.192.0.0/10 that overlap no Docker network now.
    static func freeSubnets(_ count: Int) -> [String] {
        var used = usedSubnets()
        var chosen: [String] = []
        while chosen.count < count {
            let text = "10.\(Int.random(in: 192...254)).\(Int.random(in: 0...255)).0/24"
            let candidate = IPv4CIDR.parse(text)!
            if used.contains(where: { IPv4CIDR.overlap($0, candidate) }) { continue }
            used.append(candidate)
            chosen.append(text)
        }
        return chosen
    }
}

/// Just enough IPv4 CIDR arithmetic to keep test subnets clear of existing networks.
enum IPv4CIDR {
    static func parse(_ text: String) -> (UInt32, Int)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let length = Int(parts[1]), (0...32).contains(length) else { return nil }
        let octets = parts[0].split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return nil }
        return (octets.reduce(0) { $0 << 8 | $1 }, length)
    }

    static func overlap(_ a: (UInt32, Int), _ b: (UInt32, Int)) -> Bool {
        let length = min(a.1, b.1)
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length)
        return a.0 & mask == b.0 & mask
    }
}
