import ArgumentParser
import CLISupport

/// `decnet-agent`: the DECNET node agent and its operator tools.
@main
struct DecnetAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decnet-agent",
        abstract: "DECNET node agent: applies topologies pushed by a master to the local Docker Engine.",
        discussion: """
            The operator tools (hash, validate, compose) run the same pipeline the agent runs on an apply request, \
            without a master or Docker.
            """,
        version: AgentVersion.current,
        subcommands: [
            RunCommand.self, LocalCommand.self, KeygenCommand.self, HashCommand.self, ValidateCommand.self,
            ComposeCommand.self, CatalogCommand.self,
        ]
    )
}

enum AgentVersion {
    static let current = DecnetVersion.current
}
