import ArgumentParser
import Foundation

/// `--dir`: the master's directory (keys, allow-lists, control socket). Defaults to `$DECNET_MASTER_DIR`, else the
/// current directory.
struct DirectoryOptions: ParsableArguments {
    @Option(name: .long, help: "The master's directory (default: $DECNET_MASTER_DIR, else the current directory).")
    var dir: String?

    var path: String {
        dir ?? ProcessInfo.processInfo.environment["DECNET_MASTER_DIR"] ?? FileManager.default.currentDirectoryPath
    }
}
