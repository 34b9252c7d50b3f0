import AgentProtocol
import ArgumentParser
import CLISupport
import DecnetJSON
import Topology

/// `decnet-master apply`: records a hydrated topology as an agent's desired state, then sends it.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract:
            "Record a topology as an agent's desired state and apply it; progress on stderr, the result on stdout.",
        discussion: """
            Exit 0 when the agent answers status 200; 1 when it answers another status, or when the request expired \
            before the agent ever received it (it is then never sent); 3 when time ran out after the agent received \
            it (it may still complete: re-run with --id ID to fetch its result); 2 on bad input.
            """
    )

    @OptionGroup var options: RequestOptions

    @Flag(help: "Replace another topology applied on the agent.")
    var supersede = false

    @Argument(help: "Hydrated topology JSON file, or - for standard input.")
    var file: String

    func run() async throws {
        let hydrated = OperatorIO.readJSON(file)
        guard case .object = hydrated else { OperatorIO.fail("\(file): a hydrated topology is a JSON object") }
        let request = OutgoingRequest(
            id: options.requestID,
            .apply(ApplyRequest(hydrated: hydrated, versionHash: CanonicalHash.hash(hydrated), supersede: supersede))
        )
        try await options.send(request, desire: true)
    }
}
