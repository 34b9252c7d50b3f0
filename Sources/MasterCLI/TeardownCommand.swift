import AgentProtocol
import ArgumentParser
import DecnetJSON

/// `decnet-master teardown`: records "none" as an agent's desired state, then removes the topology.
struct TeardownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teardown",
        abstract: "Record \"none\" as an agent's desired state and tear the topology down; the result JSON on stdout."
    )

    @OptionGroup var options: RequestOptions

    @Argument(help: "The topology id to remove.")
    var topologyID: String

    func run() async throws {
        try await options.send(OutgoingRequest(id: options.requestID, .teardown(topologyID: topologyID)), desire: true)
    }
}
