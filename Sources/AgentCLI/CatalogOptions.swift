import ArgumentParser
import CLISupport
import Topology

/// `--catalog FILE`: replaces the compiled-in service catalog.
struct CatalogOptions: ParsableArguments {
    @Option(name: .long, help: "Service catalog JSON file replacing the built-in one.")
    var catalog: String?

    func load() -> ServiceCatalog {
        guard let catalog else { return .default }
        do {
            return try ServiceCatalog.load(contentsOf: catalog)
        } catch {
            OperatorIO.fail("\(catalog): \(error)")
        }
    }
}

/// The options that shape the compose document.
struct ComposeOptions: ParsableArguments {
    @Option(name: .long, help: "Folder holding the services' build contexts (one sub-folder per template).")
    var templatesDir: String = ComposeOptions.defaultTemplatesDir

    @Option(name: .long, help: "Base image for decky containers and the BASE_IMAGE build argument (for mirrors).")
    var baseImage: String = TopologyComposer.defaultBaseImage

    static let defaultTemplatesDir = "/usr/share/decnet-agent/templates"
}
