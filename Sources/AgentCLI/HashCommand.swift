import ArgumentParser
import CLISupport

struct HashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print the canonical version hash of a hydrated topology (as DECNET's master computes it)."
    )

    @OptionGroup var arguments: HashArguments

    func run() { arguments.printHash() }
}
