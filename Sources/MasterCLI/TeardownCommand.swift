import AgentProtocol
import ArgumentParser
import DecnetJSON

/// `decnet-master teardown`: removes a topology from an agent.
struct TeardownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teardown",
        abstract: "Tear a topology down on an agent; the result JSON on stdout."
    )

    @OptionGroup var options: RequestOptions

    @Argument(help: "The topology id to remove.")
    var topologyID: String

    func run() async throws {
        try await options.send(OutgoingRequest(id: options.requestID, .teardown(topologyID: topologyID)))
    }
}
