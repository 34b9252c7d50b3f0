import DecnetJSON
import Foundation
import Topology

// decnet-bench: micro-benchmarks run by scripts/bench-*.sh, which print them next to their anchors.
//
//   decnet-bench hash FILE [ROUNDS] [ITERATIONS]   canonical hash of the hydrated topology in FILE
//   decnet-bench parse FILE [ROUNDS] [ITERATIONS]  parse FILE with the CPython-compatible parser
//   decnet-bench relay [AGENTS] [ROUNDS]           the master's own work per heartbeat (RelayBench)
//
// Prints one JSON line: {"bench", "bytes", "rounds", "iterations", "median_us", "min_us", "hash"}; for relay,
// {"bench", "agents", "rounds", "judge_median_us", "judge_min_us", "book_median_us", "book_min_us", "tick_median_us",
// "tick_min_us"}.

func usage() -> Never {
    FileHandle.standardError.write(
        Data("usage: decnet-bench hash|parse FILE [ROUNDS] [ITERATIONS] | relay [AGENTS] [ROUNDS]\n".utf8)
    )
    exit(2)
}

let args = CommandLine.arguments
if args.count >= 2, args[1] == "relay" {
    // At least one agent, and three rounds: the first two are left out below.
    let agents = max(1, args.count > 2 ? Int(args[2]) ?? 1_000 : 1_000)
    let rounds = max(3, args.count > 3 ? Int(args[3]) ?? 30 : 30)
    let result: RelayBench.Timings
    do { result = try await RelayBench.run(agents: agents, rounds: rounds, batch: 20, tickEvery: 200) } catch {
        FileHandle.standardError.write(Data("decnet-bench: \(error)\n".utf8))
        exit(2)
    }
    // The first rounds meet empty records and cold caches: left out.
    let judge = result.judgeMicros.dropFirst(2).sorted()
    let book = result.bookMicros.dropFirst(2).sorted()
    let tick = result.tickMicros.dropFirst(2).sorted()
    let rounded = { (value: Double) in JSONValue.float((value * 100).rounded() / 100) }
    let report: JSONValue = [
        "bench": "relay", "agents": .integer(JSONInteger(agents)), "rounds": .integer(JSONInteger(rounds)),
        "judge_median_us": rounded(judge[judge.count / 2]), "judge_min_us": rounded(judge[0]),
        "book_median_us": rounded(book[book.count / 2]), "book_min_us": rounded(book[0]),
        "tick_median_us": rounded(tick[tick.count / 2]), "tick_min_us": rounded(tick[0]),
    ]
    print(report.jsonText)
    exit(0)
}
guard args.count >= 3, let data = FileManager.default.contents(atPath: args[2]) else { usage() }
let rounds = args.count > 3 ? Int(args[3]) ?? 15 : 15
let iterations = args.count > 4 ? Int(args[4]) ?? 200 : 200
let bytes = [UInt8](data)
let value: JSONValue
do { value = try JSONParser.parse(bytes) } catch {
    FileHandle.standardError.write(Data("decnet-bench: \(error)\n".utf8))
    exit(2)
}

let clock = ContinuousClock()
var perOp: [Double] = []
var sink = 0
for _ in 0..<rounds {
    let elapsed = clock.measure {
        for _ in 0..<iterations {
            switch args[1] {
            case "hash": sink &+= CanonicalHash.hash(value).utf8.count
            case "parse": sink &+= (try? JSONParser.parse(bytes))?.objectValue?.count ?? 0
            default: usage()
            }
        }
    }
    let us = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
    perOp.append(us / Double(iterations))
}
perOp.sort()
let result: JSONValue = [
    "bench": .string(JSONString(args[1])),
    "bytes": .integer(JSONInteger(bytes.count)),
    "rounds": .integer(JSONInteger(rounds)),
    "iterations": .integer(JSONInteger(iterations)),
    "median_us": .float((perOp[perOp.count / 2] * 100).rounded() / 100),
    "min_us": .float((perOp[0] * 100).rounded() / 100),
    "hash": .string(JSONString(CanonicalHash.hash(value))),
    "sink": .integer(JSONInteger(sink & 1)),
]
print(result.jsonText)
