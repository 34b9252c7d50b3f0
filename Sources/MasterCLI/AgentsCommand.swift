import ArgumentParser
import CLISupport
import DecnetJSON
import Master

/// `decnet-master agents`: the fleet as the serving master sees it.
struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "List agents: connected, last heartbeat age, applied hash, drift; and the master's counters."
    )

    @OptionGroup var directory: DirectoryOptions

    @Flag(help: "Print the fleet snapshot as JSON (agents and counters).")
    var json = false

    func run() async throws {
        let fleet = try await ControlSession.with(directory.controlDirectory) { client throws(MasterError) in
            try await client.fleet()
        }
        if json {
            Output.json(.object(fleet))
        } else {
            print(FleetTable.render(fleet), terminator: "")
        }
    }
}

/// Opens a control connection for one operator command; every failure is one line on standard error and exit 1,
/// unless `onError` words it otherwise (a line and an exit status).
enum ControlSession {
    static func with<T: Sendable>(
        _ directory: String,
        onError: (MasterError) -> (String, Int32)? = { _ in nil },
        _ body: @Sendable (ControlClient) async throws(MasterError) -> T
    ) async throws -> T {
        let client: ControlClient
        do {
            client = try await ControlClient.connect(directory: directory)
        } catch {
            OperatorIO.fail(error.message, status: 1)
        }
        do {
            let value = try await body(client)
            await client.close()
            return value
        } catch {
            await client.close()
            if let (line, status) = onError(error) { OperatorIO.fail(line, status: status) }
            OperatorIO.fail("\(error.message) [\(error.code)]", status: 1)
        }
    }
}
