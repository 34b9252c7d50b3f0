import ArgumentParser
import CLISupport
import Topology

/// The version hash the master sends with an apply, from a hydrated topology file.
struct HashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print the canonical version hash of a hydrated topology."
    )

    @Argument(help: "Hydrated topology JSON file, or - for standard input.")
    var file: String

    func run() {
        print(CanonicalHash.hash(OperatorIO.readJSON(file)))
    }
}
