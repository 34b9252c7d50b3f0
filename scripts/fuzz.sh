#!/usr/bin/env bash
# Builds the libFuzzer target `fuzz-agent` (frame decoder, JSON parser and encoders, canonical hash, validator,
# materialisation check, composer) with the fuzzer and address sanitizers, and runs it for a bounded time.
#
#   scripts/fuzz.sh --ci            the CI run: a fixed number of executions (FUZZ_RUNS, default 30000), a throw-away
#                                   working corpus; a few seconds after the build
#   scripts/fuzz.sh [--time S]      a long run (default 600 s) that keeps its working corpus in .build-fuzz/corpus
#   options: --runs N, --time S, --no-asan (fuzzer sanitizer only: faster build and runs), -- <extra libFuzzer flags>
#
# Exits non-zero on a finding (crash, trap, sanitizer report, timeout, out-of-memory, leak); the input that caused it
# is saved under .build-fuzz/artifacts/. Reproduce one with: .build-fuzz/release/fuzz-agent <artifact file>.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ci=0
runs=""
seconds=""
asan=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) ci=1 ;;
    --runs) runs="$2"; shift ;;
    --time) seconds="$2"; shift ;;
    --no-asan) asan=0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "usage: $0 [--ci] [--runs N] [--time SECONDS] [--no-asan] [-- libFuzzer flags]" >&2; exit 2 ;;
  esac
  shift
done

scratch=.build-fuzz
# Two separate --sanitize flags reach swiftc as two -sanitize= options and it keeps only the last one, which drops
# the coverage instrumentation libFuzzer needs; the combined -Xswiftc flag restores it (checked: "cov:" > 0).
sanitizers=(--sanitize=fuzzer)
swiftc_sanitize=fuzzer
if [ "$asan" = 1 ]; then
  sanitizers+=(--sanitize=address)
  swiftc_sanitize=fuzzer,address
fi
log "building fuzz-agent (release, sanitizers: $swiftc_sanitize)"
build_start=$SECONDS
swift build -c release "${sanitizers[@]}" -Xswiftc "-sanitize=$swiftc_sanitize" --product fuzz-agent \
  --scratch-path "$scratch" 2>&1 | grep -v "Cannot export local symbol '__asan_extra_spill_area'" | tail -n 3
log "build took $((SECONDS - build_start)) s"

binary="$scratch/release/fuzz-agent"
artifacts="$scratch/artifacts"
mkdir -p "$artifacts"
if [ "$ci" = 1 ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  bound=(-runs="${runs:-${FUZZ_RUNS:-30000}}" -max_total_time="${seconds:-120}")
else
  work="$scratch/corpus"
  mkdir -p "$work"
  bound=(-max_total_time="${seconds:-600}")
  [ -n "$runs" ] && bound+=(-runs="$runs")
fi

log "running fuzz-agent: ${bound[*]} (working corpus $work, seeds Fuzz/corpus)"
logfile="$scratch/fuzz-$(date +%Y%m%d-%H%M%S).log"
set +e
# New inputs go to the first folder only: the committed seed corpus is never written. Swift's own crash backtracer
# is switched off so that libFuzzer and the address sanitizer report a trap at once and save the input.
# libFuzzer keeps the last occurrence of a flag, so the caller's extra flags come last and win.
SWIFT_BACKTRACE=enable=no "$binary" "${bound[@]}" -max_len=65536 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
  -timeout=10 -dict=Fuzz/agent.dict -artifact_prefix="$artifacts/" -print_final_stats=1 "${extra[@]}" \
  "$work" Fuzz/corpus >"$logfile" 2>&1
status=$?
set -e

# libFuzzer's summary: the last status line and the final statistics.
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$logfile" | tail -n 2 || true
grep -E '^stat::' "$logfile" || true
if [ "$status" -ne 0 ]; then
  log "fuzz-agent FOUND A PROBLEM (exit $status); log: $logfile"
  grep -E 'ERROR:|SUMMARY:|Fatal error|invariant broken|Test unit written' "$logfile" | head -n 20 >&2 || true
  grep -E -m 1 -A 25 'ERROR:|Fatal error|invariant broken' "$logfile" | head -n 30 >&2 || tail -n 30 "$logfile" >&2
  ls -1t "$artifacts" | head -n 3 | sed "s|^|artifact: $artifacts/|" >&2
  exit "$status"
fi
log "fuzz-agent: no findings (log: $logfile)"
