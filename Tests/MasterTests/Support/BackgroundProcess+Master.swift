import LiveTestSupport
import TestSupport

extension BackgroundProcess {
    /// The built `decnet-master`.
    static let master = ProcessRunner.executable("decnet-master")

    /// Starts `decnet-master arguments...` as an operator would (or `executable` with `arguments`).
    convenience init(_ arguments: [String], executable: String = BackgroundProcess.master) throws {
        try self.init(executable: executable, arguments: arguments)
    }
}
