import Foundation

/// The settings a run's phases need, copied out of the command line.
struct LoadOptions: Sendable {
    var agents: Int
    var masterDir: String
    var heartbeatInterval: Double
    var duration: Double
    var report: String?
    var masterPID: Int32?
    var connectTimeout: Double
    var observe: Double
    var grace: Double
    /// Written once every agent is connected and subscribed (several load-agents processes share a start).
    var readyFile: String?
    /// The steady phase starts once this file exists (at most `connectTimeout` after ready).
    var goFile: String?

    /// One progress line on standard error.
    static func log(_ line: String) {
        FileHandle.standardError.write(Data("load-agents: \(line)\n".utf8))
    }
}
