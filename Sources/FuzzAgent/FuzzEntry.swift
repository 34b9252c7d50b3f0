// The libFuzzer entry point of `fuzz-agent`. Built with `swift build --sanitize=fuzzer` (scripts/fuzz.sh), libFuzzer's
// own `main` drives this function; a plain build links an inert program (see main.swift).

/// Called by libFuzzer once per generated input. Any trap, sanitizer report, timeout or memory blow-up is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAgentTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    AgentFuzzHarness.run(bytes)
    return 0
}
