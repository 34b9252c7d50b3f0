// Deliberately no statements. `swift build --sanitize=fuzzer` compiles this target with `-parse-as-library`, so this
// file adds nothing and libFuzzer's `main` drives `LLVMFuzzerTestOneInput` (FuzzEntry.swift). Every other build
// (debug, and `--build-tests`, where SwiftPM links executables with `--defsym main=fuzz_agent_main`) takes this file
// as the entry point: without it a multi-file executable target has none and the test build fails to link. Adding a
// statement here would break the fuzzer build ("expressions are not allowed at the top level").
