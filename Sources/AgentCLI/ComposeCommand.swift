import ArgumentParser
import CLISupport
import DecnetJSON
import Topology

struct ComposeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compose",
        abstract: "Print the compose document the agent would materialise for a hydrated topology.",
        discussion: """
            The topology is validated first; when it has errors the validation report is printed instead and the \
            exit status is 1.
            """
    )

    @Argument(help: "Hydrated topology JSON file, or - for standard input.")
    var file: String

    @OptionGroup var catalog: CatalogOptions
    @OptionGroup var compose: ComposeOptions

    @Option(help: "Output format: json or yaml.")
    var format: Format = .json

    enum Format: String, ExpressibleByArgument {
        case json, yaml
    }

    func run() throws {
        let hydrated = OperatorIO.readJSON(file)
        let services = catalog.load()
        let report = TopologyValidator(knownServices: services.topologyServiceNames).validate(hydrated)
        if report.hasErrors {
            Output.json(report.jsonValue)
            throw ExitCode(1)
        }
        let composer = TopologyComposer(
            catalog: services,
            templatesRoot: compose.templatesDir,
            baseImage: compose.baseImage
        )
        do {
            let plan = try composer.compose(hydrated)
            switch format {
            case .json: Output.json(plan.document)
            case .yaml: StandardStream.writeOutput(ComposeYAML.render(plan.document))
            }
        } catch {
            OperatorIO.fail("cannot compose: \(error)", status: 1)
        }
    }
}
