import ArgumentParser
import Foundation

/// `--dir`: the master's directory (keys, allow-lists). Defaults to `$DECNET_MASTER_DIR`, else the current directory.
/// `--run-dir`: where the control socket (and the serving master's lock) is, when not in that directory; defaults to
/// `$DECNET_MASTER_RUN_DIR`, else the master's directory. A packaged master keeps its keys in `/etc/decnet/master`
/// and its control socket in `/var/lib/decnet-master`.
struct DirectoryOptions: ParsableArguments {
    @Option(name: .long, help: "The master's directory (default: $DECNET_MASTER_DIR, else the current directory).")
    var dir: String?

    @Option(
        name: .customLong("run-dir"),
        help: "Folder of control.ipc and master.lock (default: $DECNET_MASTER_RUN_DIR, else the master's directory)."
    )
    var runDir: String?

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    var path: String {
        dir ?? Self.environment[ServeSettings.Key.dir.setting.environment] ?? FileManager.default.currentDirectoryPath
    }

    /// Where the operator commands find `control.ipc`.
    var controlDirectory: String {
        runDir ?? Self.environment[ServeSettings.Key.runDir.setting.environment] ?? path
    }
}
