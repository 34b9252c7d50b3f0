import ArgumentParser
import CLISupport

/// The version hash the master sends with an apply, from a hydrated topology file.
struct HashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print the canonical version hash of a hydrated topology."
    )

    @OptionGroup var arguments: HashArguments

    func run() { arguments.printHash() }
}
