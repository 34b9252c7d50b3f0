import ArgumentParser
import CLISupport
import Topology

struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Print the service catalog in use (a starting point for a --catalog file)."
    )

    @OptionGroup var catalog: CatalogOptions

    func run() {
        Output.json(catalog.load().jsonValue)
    }
}
