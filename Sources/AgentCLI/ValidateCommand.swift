import ArgumentParser
import CLISupport
import Topology

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a hydrated topology with the master's validation rules.",
        discussion: """
            Prints {"issues": [{"severity", "code", "message", "target"}], "has_errors": bool}. \
            Exit status 0 without errors, 1 with errors, 2 for unreadable or non-JSON input.
            """
    )

    @Argument(help: "Hydrated topology JSON file, or - for standard input.")
    var file: String

    @OptionGroup var catalog: CatalogOptions

    func run() throws {
        let hydrated = OperatorIO.readJSON(file)
        let report = TopologyValidator(knownServices: catalog.load().topologyServiceNames).validate(hydrated)
        Output.json(report.jsonValue)
        if report.hasErrors { throw ExitCode(1) }
    }
}
