import ArgumentParser
import DecnetJSON
import Foundation
import Master

/// `decnet-master watch`: a live table of the fleet, redrawn whenever a heartbeat changes it.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "A live table of the fleet, redrawn from heartbeats (Ctrl-C to stop)."
    )

    @OptionGroup var directory: DirectoryOptions

    @Flag(help: "Print one snapshot and exit.")
    var once = false

    func run() async throws {
        if once {
            let fleet = try await ControlSession.with(directory.controlDirectory) { client throws(MasterError) in
                try await client.fleet()
            }
            print(FleetTable.render(fleet), terminator: "")
            return
        }
        try await ControlSession.with(directory.controlDirectory) { client throws(MasterError) in
            try await client.watch { fleet in
                // Home the cursor and clear the screen, then draw.
                let text = "\u{1B}[H\u{1B}[2J" + Self.clock() + "\n" + FleetTable.render(fleet)
                FileHandle.standardOutput.write(Data(text.utf8))
                return true
            }
        }
    }

    static func clock() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return String(format: "decnet-master watch  %02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
