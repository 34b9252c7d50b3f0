import Foundation
import ZeroMQ

// zmq-latency: CURVE round trips on loopback, for scripts/bench-zmq.sh (docs/performance.md#zeromq-latency).
//
//   zmq-latency [ROUNDS] [WARMUP]      default 2000 and 200
//
// Three paths, each ROUNDS timed round trips after WARMUP untimed ones, against a CURVE ROUTER behind a ZAP
// allow-list that echoes every message:
//   bridge      a DEALER owned by a SocketThread, driven from a task (the agent's path) -> an echo thread making
//               blocking calls
//   both        the same DEALER -> a ROUTER that is itself behind a SocketThread, echoed by a task (the master's path)
//   one-thread  a DEALER making blocking calls on a thread of its own -> the echo thread: the floor the bridge adds to
// Prints one JSON line per path: {"path", "round_trips", "p50_us", "p90_us", "p99_us"}. Every echo must carry the
// bytes sent; a wrong or missing echo ends the run with status 1 (a missing one after 10 s).

let arguments = CommandLine.arguments
let rounds = arguments.count > 1 ? Int(arguments[1]) ?? 0 : 2000
let warmUp = arguments.count > 2 ? Int(arguments[2]) ?? -1 : 200
guard rounds > 0, warmUp >= 0 else {
    FileHandle.standardError.write(Data("usage: zmq-latency [ROUNDS>0] [WARMUP>=0]\n".utf8))
    exit(2)
}

do {
    let settings = Settings(rounds: rounds, warmUp: warmUp)
    try await bridgeToEchoThread(settings)
    try await bridgeOnBothEnds(settings)
    try await oneThread(settings)
} catch {
    FileHandle.standardError.write(Data("zmq-latency: \(error)\n".utf8))
    exit(1)
}
