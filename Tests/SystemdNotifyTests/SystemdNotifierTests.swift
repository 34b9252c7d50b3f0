import Foundation
import LiveTestSupport
import Synchronization
import SystemdNotify
import TestSupport
import Testing

/// The notification protocol against a real datagram socket, as systemd binds it: a socket file or an abstract name.
@Suite("systemd notify protocol")
struct SystemdNotifierTests {
    @Test(arguments: [false, true])
    func readyStatusWatchdogAndStoppingArriveAsDatagrams(abstract: Bool) async throws {
        let listener = try NotifyListener(abstract: abstract)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
        #expect(notifier.isEnabled)
        #expect(notifier.address?.description == listener.address)
        #expect(notifier.ready(status: "dialling tcp://m:8771"))
        #expect(notifier.status("connected"))
        #expect(notifier.watchdog())
        #expect(notifier.stopping(status: "stopping"))
        _ = await listener.wait(within: 5) { $0 == "STATUS=stopping" }
        #expect(
            listener.datagrams == [
                "READY=1\nSTATUS=dialling tcp://m:8771", "STATUS=connected", "WATCHDOG=1",
                "STOPPING=1\nSTATUS=stopping",
            ]
        )
    }

    @Test func aValueCannotStartAnotherAssignment() async throws {
        let listener = try NotifyListener()
        let notifier = SystemdNotifier(address: .path(listener.address))
        #expect(notifier.status("last error: boom\nREADY=1\r\nWATCHDOG=trigger"))
        _ = await listener.wait(within: 5) { $0.hasPrefix("STATUS=") }
        #expect(listener.datagrams == ["STATUS=last error: boom READY=1 WATCHDOG=trigger"])
    }

    @Test func withoutNotifySocketNothingIsSent() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.ready(status: "x"))
        #expect(!notifier.watchdog())
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"]).address == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@"]).address == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]).address == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@x"]).address == .abstract("x"))
    }

    @Test func aMissingListenerOrAnOverlongNameIsReportedNotThrown() throws {
        let directory = try TemporaryDirectory("notify-gone")
        defer { directory.remove() }
        #expect(!SystemdNotifier(address: .path(directory.file("nobody"))).ready())
        #expect(!SystemdNotifier(address: .path("/tmp/" + String(repeating: "x", count: 120))).ready())
        #expect(!SystemdNotifier(address: .abstract(String(repeating: "x", count: 120))).ready())
    }

    @Test func theWatchdogIsOnlyThisProcesssWhenWatchdogPIDNamesIt() {
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000"], pid: 7) == .seconds(30))
        #expect(
            SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"], pid: 7)
                == .seconds(30)
        )
        #expect(
            SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "8"], pid: 7)
                == nil
        )
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "0"], pid: 7) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "soon"], pid: 7) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: [:], pid: 7) == nil)
    }

    @Test func theServiceNotifierSendsReadyOnceStatusOnChangeAndKicksAtHalfTheInterval() async throws {
        let listener = try NotifyListener(abstract: true)
        let notifier = ServiceNotifier(
            SystemdNotifier(address: SystemdNotifier.Address(listener.address), watchdogInterval: .seconds(10))
        )
        #expect(notifier.kickInterval == .seconds(5))
        #expect(notifier.loopInterval() == .seconds(1))
        let start = ContinuousClock.now
        notifier.ready(status: "starting")
        notifier.ready(status: "serving")
        notifier.status("serving")
        notifier.status("serving; 1 agent connected")
        notifier.kick(now: start)
        notifier.kick(now: start + .seconds(4))
        notifier.kick(now: start + .seconds(5))
        notifier.stopping(status: "stopping")
        notifier.status("after stop")
        notifier.stopping(status: "again")
        // Datagrams are queued at the listener when sent: one sent after every call above arrives after anything
        // those calls sent.
        #expect(SystemdNotifier(address: SystemdNotifier.Address(listener.address)).status("witness"))
        _ = await listener.wait(within: 5) { $0 == "STATUS=witness" }
        #expect(
            listener.datagrams == [
                "READY=1\nSTATUS=starting", "STATUS=serving", "STATUS=serving; 1 agent connected", "WATCHDOG=1",
                "WATCHDOG=1", "STOPPING=1\nSTATUS=stopping", "STATUS=witness",
            ]
        )
    }

    @Test func withoutAWatchdogKicksSendNothing() async throws {
        let listener = try NotifyListener()
        let notifier = ServiceNotifier(SystemdNotifier(address: .path(listener.address)))
        #expect(notifier.kickInterval == nil)
        #expect(notifier.loopInterval(ceiling: .seconds(2)) == .seconds(2))
        notifier.kick()
        notifier.status("x")
        _ = await listener.wait(within: 5) { $0 == "STATUS=x" }
        #expect(listener.datagrams == ["STATUS=x"])
    }

    /// Both ends checked against an independent implementation (CPython's socket module), so that the sender and
    /// the test listener cannot agree on a wrong address encoding: Python receives what we send, and we receive what
    /// Python sends, on a socket file and on an abstract name.
    @Test(arguments: [false, true])
    func pythonAgreesOnTheAddressEncoding(abstract: Bool) async throws {
        let receiver = """
            import socket, sys
            a = sys.argv[1]
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind("\\0" + a[1:] if a.startswith("@") else a)
            s.settimeout(20)
            print("bound", flush=True)
            print(s.recv(4096).decode().replace("\\n", "|"), flush=True)
            """
        let directory = try TemporaryDirectory("notify-py")
        defer { directory.remove() }
        let address = abstract ? "@decnet-notify-py-\(UUID().uuidString)" : directory.file("notify")
        let python = try BackgroundProcess(command: ["python3", "-c", receiver, address])
        #expect(try await python.firstLine() == "bound")
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": address]).ready(status: "from swift"))
        #expect(try await python.exitStatus(seconds: 20) == 0)
        #expect(python.stdout == "bound\nREADY=1|STATUS=from swift\n")

        let listener = try NotifyListener(abstract: abstract)
        let sender = """
            import os, socket
            a = os.environ["NOTIFY_SOCKET"]
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.sendto(b"READY=1\\nSTATUS=from python", "\\0" + a[1:] if a.startswith("@") else a)
            """
        let child = try ProcessRunner.run(
            "/usr/bin/env",
            ["python3", "-c", sender],
            environment: ["NOTIFY_SOCKET": listener.address, "PATH": "/usr/bin:/bin"]
        )
        #expect(child.status == 0, "\(child.stderr)")
        #expect(await listener.wait(within: 5) { $0 == "STATUS=from python" } != nil)
    }
}
