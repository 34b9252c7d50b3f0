// store-crash-helper: drives a TopologyStore from a separate process so StoreTests can kill it with SIGKILL, or run
// it inside a private mount namespace on a full or read-only tmpfs. Every answer is one JSON object per line on
// stdout, written with a single write(2) after the operation returned, so a printed line always means "committed".
//
//   store-crash-helper loop  DB               put / recordAttempt / beginRequest / finishRequest forever
//   store-crash-helper fill  DB [FSIZE]       growing puts until the store throws (FSIZE: RLIMIT_FSIZE in bytes)
//   store-crash-helper seed  DB               one put, then close
//   store-crash-helper open  DB rw|ro         open, read, write; report what each step did
//   store-crash-helper opendir DIR            the same through TopologyStore(stateDirectory:)
import AgentStore
import DecnetJSON

#if canImport(Glibc)
import Glibc
#endif

func emit(_ members: KeyValuePairs<String, JSONValue>) {
    var object = JSONObject()
    for (key, value) in members { object[JSONString(key)] = value }
    var line = PythonJSONEncoder().encode(.object(object))
    line.append(UInt8(ascii: "\n"))
    _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

func outcome(_ body: () throws -> Void) -> JSONValue {
    do {
        try body()
        return "ok"
    } catch let error as StoreError {
        return JSONValue(error.code.rawValue)
    } catch {
        return JSONValue("unexpected \(error)")
    }
}

func errorFields(_ error: StoreError) -> JSONValue {
    [
        "code": JSONValue(error.code.rawValue), "operation": JSONValue(error.operation),
        "message": JSONValue(error.message), "sqlite": error.sqliteExtendedCode.map { JSONValue(Int($0)) } ?? nil,
        "errno": error.errno.map { JSONValue(Int($0)) } ?? nil,
    ]
}

/// The blob `loop` stores for write number `seq`; the test rebuilds it to compare bytes.
func loopBlob(_ seq: Int) -> JSONValue {
    [
        "seq": JSONValue(seq), "big": .integer(JSONInteger(decimal: "123456789012345678901234567890")!), "one": 1.0,
        "name": JSONValue("décor-\(seq)"),
    ]
}

func loop(_ path: String) throws(StoreError) {
    let store = try TopologyStore(path: path)
    var seq = 1
    while true {
        let at = Int64(seq)
        switch seq % 4 {
        case 0:
            try store.put(topologyID: "t-crash", versionHash: "hash-\(seq)", hydrated: loopBlob(seq), at: at)
            emit(["seq": JSONValue(seq), "op": "put"])
        case 1:
            try store.recordAttempt(topologyID: "t-crash", versionHash: "attempt-\(seq)", at: at, error: "e\(seq)")
            emit(["seq": JSONValue(seq), "op": "attempt"])
        case 2:
            let begin = try store.beginRequest(id: "r\(seq)", fingerprint: "f\(seq)", type: "apply", at: at)
            precondition(begin == .new, "request r\(seq) was not new")
            emit(["seq": JSONValue(seq), "op": "begin"])
        default:
            let done = try store.finishRequest(id: "r\(seq - 1)", result: ["seq": JSONValue(seq)], at: at)
            precondition(done, "request r\(seq - 1) was not running")
            emit(["seq": JSONValue(seq), "op": "finish"])
        }
        seq += 1
    }
}

func fill(_ path: String) {
    let store: TopologyStore
    do { store = try TopologyStore(path: path) } catch {
        emit(["phase": "open", "error": errorFields(error)])
        return
    }
    var lastGood = 0
    for n in 1...100_000 {
        let pad = String(repeating: "x", count: 2_048 * n)
        do {
            let hydrated: JSONValue = ["n": JSONValue(n), "pad": JSONValue(pad)]
            try store.put(topologyID: "t-fill", versionHash: "h\(n)", hydrated: hydrated, at: Int64(n))
            lastGood = n
        } catch {
            var current: JSONValue = nil
            let read = outcome { current = (try store.current()?.versionHash).map { JSONValue($0) } ?? nil }
            emit([
                "phase": "full", "writes": JSONValue(lastGood), "error": errorFields(error),
                "current": current, "current_outcome": read,
                "integrity": outcome { guard try store.integrityCheck() == ["ok"] else { throw error } },
                "small_write": outcome {
                    try store.recordAttempt(topologyID: "t-fill", versionHash: "h", at: 0, error: "full")
                },
            ])
            return
        }
    }
    emit(["phase": "never full", "writes": JSONValue(lastGood)])
}

func openAndProbe(_ path: String, access: TopologyStore.Access, directory: Bool = false) {
    let store: TopologyStore
    do {
        store =
            try directory
            ? TopologyStore(stateDirectory: path, access: access) : TopologyStore(path: path, access: access)
    } catch {
        emit(["open": JSONValue(error.code.rawValue), "error": errorFields(error)])
        return
    }
    var id: JSONValue = nil
    let read = outcome { id = (try store.current()?.topologyID).map { JSONValue($0) } ?? nil }
    let write = outcome { try store.recordAttempt(topologyID: "t", versionHash: "h", at: 1, error: "e") }
    emit(["open": "ok", "read": read, "current": id, "write": write])
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    emit(["usage": "store-crash-helper loop|fill|seed|open DB [...]"])
    exit(2)
}
let path = arguments[2]
switch arguments[1] {
case "loop":
    do { try loop(path) } catch { emit(["phase": "loop", "error": errorFields(error)]) }
    exit(1)
case "fill":
    if arguments.count > 3, let limit = UInt64(arguments[3]) {
        // Past the limit write(2) fails with EFBIG instead of killing us with SIGXFSZ.
        signal(SIGXFSZ, SIG_IGN)
        var limits = rlimit(rlim_cur: rlim_t(limit), rlim_max: rlim_t(limit))
        guard setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limits) == 0 else {
            emit(["phase": "setrlimit", "errno": JSONValue(Int(errno))])
            exit(1)
        }
    }
    fill(path)
case "seed":
    let result = outcome {
        let store = try TopologyStore(path: path)
        try store.put(topologyID: "t-seed", versionHash: "h-seed", hydrated: ["a": 1], at: 1)
        store.close()
    }
    emit(["seed": result])
case "open":
    openAndProbe(path, access: arguments.count > 3 && arguments[3] == "ro" ? .readOnly : .readWrite)
case "opendir":
    openAndProbe(path, access: .readWrite, directory: true)
default:
    emit(["usage": JSONValue("unknown mode \(arguments[1])")])
    exit(2)
}
