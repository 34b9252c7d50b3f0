import ArgumentParser
import CLISupport
import Topology

struct HashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print the canonical version hash of a hydrated topology (as DECNET's master computes it)."
    )

    @Argument(help: "Hydrated topology JSON file, or - for standard input.")
    var file: String

    func run() {
        print(CanonicalHash.hash(OperatorIO.readJSON(file)))
    }
}
