// The libFuzzer entry point of `fuzz-agent`. There is deliberately no `main.swift`: built with
// `swift build --sanitize=fuzzer`, libFuzzer's own `main` drives this function; a plain build links an inert program.
// `scripts/fuzz.sh` builds and runs it.

/// Called by libFuzzer once per generated input. Any trap, sanitizer report, timeout or memory blow-up is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAgentTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    AgentFuzzHarness.run(bytes)
    return 0
}
