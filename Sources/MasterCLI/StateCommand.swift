import AgentProtocol
import ArgumentParser
import DecnetJSON

/// `decnet-master state`: asks an agent for its state object.
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Ask an agent for its state; the result JSON on stdout."
    )

    @OptionGroup var options: RequestOptions

    func run() async throws {
        try await options.send(OutgoingRequest(id: options.requestID, .state))
    }
}
