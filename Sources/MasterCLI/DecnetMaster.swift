import ArgumentParser
import CLISupport

/// `decnet-master`: the master side of the fleet: serves agents over ZeroMQ with CURVE and drives them.
@main
struct DecnetMaster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decnet-master",
        abstract: "DECNET fleet master: authenticates agents, fans commands out to them and relays their heartbeats.",
        discussion: """
            Agents dial out to the master (ROUTER on port 8771, heartbeat SUB on 8772); monitors subscribe to the \
            relay (XPUB on 8773). Every socket is a CURVE server behind a ZAP allow-list: agents/ for the command \
            and heartbeat sockets, monitors/ for the relay. Operator commands (agents, apply, teardown, state, \
            watch) talk to a serving master through its control socket, DIR/control.ipc.
            """,
        version: DecnetVersion.current,
        subcommands: [
            HashCommand.self, KeygenCommand.self, ServeCommand.self, AgentsCommand.self, ApplyCommand.self,
            TeardownCommand.self, StateCommand.self, WatchCommand.self, KeysCommand.self, RotateKeyCommand.self,
            DesiredCommand.self, ForgetCommand.self, PauseCommand.self, ResumeCommand.self, RequestCommand.self,
            RequestsCommand.self,
        ]
    )
}
