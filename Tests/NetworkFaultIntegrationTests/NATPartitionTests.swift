import AgentProtocol
import DecnetJSON
import Foundation
import LiveTestSupport
import TestSupport
import Testing

/// The agent behind a NAT that only lets it dial out; the link cut for longer than the ZMTP heartbeat timeout, then
/// healed (docs/reliability.md#nat-partition). Real `decnet-master serve` and `decnet-agent run` in namespaces made
/// here.
@Suite(
    .serialized,
    .enabled(
        if: NATLab.isAvailable,
        "needs `ip netns add` and iptables inside a namespace (root with CAP_SYS_ADMIN and CAP_NET_ADMIN)"
    )
)
struct NATPartitionTests {
    init() async {
        await NATLab.removeStale()
    }

    @Test("the NAT masquerades the agent's connections and lets nothing dial in")
    func natOnlyLetsTheAgentDialOut() async throws {
        let lab = try await NATLab.create()
        var harness: PartitionHarness?
        var listener: BackgroundProcess?
        do {
            harness = try await PartitionHarness.start(lab: lab)
            let h = try #require(harness)
            #expect(try await Shell.eventually(30) { try await h.record()?["connected"]?.boolValue == true })
            // The master sees the agent's connections coming from the NAT's public address, never from the LAN.
            let peers = try await h.masterPeers(port: 8771) + h.masterPeers(port: 8772)
            #expect(peers.count >= 2)
            #expect(peers.allSatisfy { $0 == NATLab.natWANAddress }, "peers: \(peers)")

            // A listener inside the agent's namespace: reachable there, unreachable from the master's side.
            listener = try BackgroundProcess(
                command: lab.command(in: lab.agent, ["python3", "-c", Self.listenerScript])
            )
            #expect(try await Shell.eventually(10) { listener?.stdout.contains("listening") == true })
            let local = try await Shell.run(lab.command(in: lab.agent, Self.dial(host: "127.0.0.1")), timeout: 10)
            #expect(local.status == 0, "the listener answers inside its own namespace")
            let droppedBefore = try await lab.packets(chain: "FORWARD", comment: "unsolicited-in")
            for host in [NATLab.agentAddress, NATLab.natWANAddress] {
                let inbound = try await Shell.run(lab.command(in: lab.master, Self.dial(host: host)), timeout: 10)
                #expect(inbound.status != 0, "the master side opened a connection to \(host)")
            }
            #expect(try await lab.packets(chain: "FORWARD", comment: "unsolicited-in") > droppedBefore)
            #expect(try await lab.packets(chain: "INPUT", comment: "unsolicited-to-nat") > 0)
            let accepted = (listener?.stdout ?? "").split(separator: "\n").filter { $0.hasPrefix("accepted") }
            #expect(accepted.count == 1 && accepted.allSatisfy { $0.contains("'127.0.0.1'") }, "accepted: \(accepted)")
        } catch {
            // A failed #require was recorded already; anything else is recorded here. Either way, clean up.
            if !(error is ExpectationFailedError) { Issue.record(error) }
        }
        await listener?.stop()
        await harness?.stop()
        await lab.destroy()
    }

    @Test(
        "a cut longer than the heartbeat timeout: both sides notice, the agent comes back",
        arguments: NATLab.Cut.allCases
    )
    func partitionAndHeal(cut: NATLab.Cut) async throws {
        let lab = try await NATLab.create()
        var harness: PartitionHarness?
        var pending: BackgroundProcess?
        do {
            harness = try await PartitionHarness.start(lab: lab)
            let h = try #require(harness)
            #expect(try await Shell.eventually(30) { try await h.record()?["heartbeat"]?["seq"]?.intValue ?? 0 >= 2 })
            let before = try #require(try await h.record())
            let bootID = try #require(before["boot_id"]?.stringValue)
            #expect(before["connections"]?.intValue == 1)
            let disconnectionsBefore = try await h.commandDisconnections()

            try await lab.cut(cut)
            let cutAt = ContinuousClock.now
            // The master drops the connection when the agent's TTL (3 s) passes without traffic, and the agent
            // when its own PINGs go unanswered for the timeout (2 s).
            #expect(
                try await Shell.eventually(20) { try await h.commandDisconnections() > disconnectionsBefore },
                "the master did not see the command connection end"
            )
            let masterNoticed = Self.seconds(since: cutAt)
            #expect(
                try await Shell.eventually(20) { !h.agentLogLines("master connection lost; reconnecting").isEmpty },
                "the agent did not log a lost connection"
            )
            let agentNoticed = Self.seconds(since: cutAt)
            #expect(try await h.record()?["heartbeat"]?["age_ms"]?.intValue ?? 0 >= 2000)
            // Without sending anything the master shows the agent gone: `closed` once libzmq ends the command
            // connection (its TTL), or `silent` after nothing was heard for 3 heartbeat intervals (1 s each) plus 1 s,
            // whichever comes first.
            #expect(
                try await Shell.eventually(15) {
                    let record = try await h.record()
                    return record?["connected"]?.boolValue == false
                        && ["silent", "closed"].contains(record?["disconnect_reason"]?.stringValue ?? "")
                },
                "the master still shows the agent connected"
            )
            let masterShowedGone = Self.seconds(since: cutAt)
            // A request now waits for the agent, and is delivered after its hello.
            pending = try h.stateRequest(timeout: 90)
            let held = ContinuousClock.now - cutAt
            if held < .seconds(8) { try await Task.sleep(for: .seconds(8) - held) }
            let silentSeq = try await h.record()?["heartbeat"]?["seq"]?.intValue ?? 0

            try await lab.heal(cut)
            let healedAt = ContinuousClock.now
            #expect(
                try await Shell.eventually(45) {
                    let record = try await h.record()
                    return record?["connected"]?.boolValue == true && record?["connections"]?.intValue == 2
                        && record?["disconnect_reason"] == .null
                        && record?["heartbeat"]?["seq"]?.intValue ?? 0 > silentSeq
                },
                "the agent did not come back with a new hello and fresh heartbeats"
            )
            let reconnectSeconds = Self.seconds(since: healedAt)
            let after = try #require(try await h.record())
            #expect(after["boot_id"]?.stringValue == bootID, "same process, same boot_id")
            #expect(after["heartbeat"]?["boot_id"]?.stringValue == bootID)
            // The heartbeats written into the dead connection before libzmq gave up on it are lost, and the master
            // counts them as a seq gap. (Later ones wait in the PUB's connect-side queue and arrive after healing.)
            let gaps = after["heartbeat"]?["gaps"]?.intValue ?? 0
            #expect((1...12).contains(gaps), "heartbeat gaps after an 8 s cut: \(gaps)")
            #expect(h.agentLogLines("connected to master").count >= 2)
            #expect(try await h.masterPeers(port: 8771).allSatisfy { $0 == NATLab.natWANAddress })

            // The request made during the cut was delivered after the hello; a new one works too.
            let request = try #require(pending)
            #expect(try await Shell.eventually(30) { !request.isRunning }, "the held state request never finished")
            #expect(request.terminationStatus == 0, "held state request: \(request.stderr)")
            let held200 = try ResultMessage(answer: JSONParser.parse(request.stdout))
            #expect(held200.status == 200)
            #expect(held200.body?.objectValue?.keys.contains("drift") == true)
            let fresh = try await Shell.run(
                [
                    PartitionHarness.master, "state", "--dir", h.masterDir, "--agent", PartitionHarness.agentID,
                    "--timeout", "30",
                ],
                timeout: 40
            )
            #expect(fresh.status == 0, "state after healing: \(fresh.stderr)")
            #expect(try ResultMessage(answer: JSONParser.parse(fresh.stdout)).status == 200)
            print(
                "partition (\(cut)): master saw the connection end by \(masterNoticed) s and showed the agent "
                    + "gone by \(masterShowedGone) s, the agent logged it by "
                    + "\(agentNoticed) s after the cut; agent back \(reconnectSeconds) s after healing; "
                    + "\(gaps) heartbeats missed"
            )
        } catch {
            // A failed #require was recorded already; anything else is recorded here. Either way, clean up.
            let log = harness?.agentLog.suffix(3000) ?? ""
            if error is ExpectationFailedError {
                Issue.record("agent log:\n\(log)")
            } else {
                Issue.record(error, "agent log:\n\(log)")
            }
        }
        await pending?.stop()
        await harness?.stop()
        await lab.destroy()
    }

    /// Seconds since `start`, to a tenth (the polls run every 0.2 s).
    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = (ContinuousClock.now - start).components
        return ((Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18) * 10).rounded() / 10
    }

    /// Prints "listening", then "accepted" for every connection it gets, for up to 60 s.
    static let listenerScript = """
        import socket, sys
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", 9999)); s.listen(8); s.settimeout(60)
        print("listening", flush=True)
        try:
            while True:
                c, a = s.accept(); print("accepted", a, flush=True); c.close()
        except socket.timeout:
            pass
        """

    /// A TCP connect to HOST:9999 that gives up after 3 s (exit 0 only when it connected).
    static func dial(host: String) -> [String] {
        ["timeout", "-s", "KILL", "3", "bash", "-c", "exec 3<>/dev/tcp/\(host)/9999"]
    }
}
