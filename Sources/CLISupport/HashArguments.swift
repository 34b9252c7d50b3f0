import ArgumentParser
import Topology

/// The `hash` command of both executables: the canonical version hash (SHA-256 of the canonical JSON, as DECNET's
/// master computes it) of a hydrated topology file, printed on one line. Each executable keeps only a thin command
/// that names itself and calls ``printHash()``.
public struct HashArguments: ParsableArguments {
    @Argument(help: "Hydrated topology JSON file, or - for standard input.")
    public var file: String

    public init() {}

    /// Reads the file (bad input exits 2 with one line on standard error, ``OperatorIO``) and prints its hash.
    public func printHash() {
        print(CanonicalHash.hash(OperatorIO.readJSON(file)))
    }
}
