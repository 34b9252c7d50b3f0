#!/usr/bin/env bash
# CURVE round trips on loopback (docs/performance.md#zeromq-latency): a DEALER behind the socket thread's bridge
# against an echo thread, the same against a ROUTER behind a bridge too, and blocking calls on one thread (the floor
# the bridge adds to). Medians of the percentiles over ROUNDS runs of REQUESTS round trips each.
#
#   scripts/bench-zmq.sh [REQUESTS] [ROUNDS]          default 2000 and 3; a few seconds
#
# Fails (exit 1) when an echo is missing or carries other bytes than were sent. Environment:
#   DECNET_BIN_DIR       use the zmq-latency binary there instead of building
#   DECNET_SCRATCH_PATH  swift build --scratch-path when building (release)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
requests=${1:-2000}; rounds=${2:-3}

if [ -n "${DECNET_BIN_DIR:-}" ]; then
  bin=$DECNET_BIN_DIR/zmq-latency
else
  ensure_apt_packages
  scratch=()
  [ -n "${DECNET_SCRATCH_PATH:-}" ] && scratch=(--scratch-path "$DECNET_SCRATCH_PATH")
  log "building zmq-latency (release)"
  swift build "${scratch[@]}" -c release --product zmq-latency >/dev/null
  bin=$(swift build "${scratch[@]}" -c release --show-bin-path)/zmq-latency
fi

out=$(mktemp); trap 'rm -f "$out"' EXIT
log "measuring: $rounds rounds of $requests round trips per path"
for _ in $(seq 1 "$rounds"); do
  timeout 300 "$bin" "$requests" 200 >>"$out"
done
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" "$requests" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
requests = int(sys.argv[2])
labels = {
    "bridge": "socket thread bridge -> echo thread",
    "both": "socket thread bridge -> socket thread bridge + echo task",
    "one-thread": "one thread, blocking calls -> echo thread (floor)",
}
print(f"ZeroMQ CURVE round trips over tcp loopback, {requests} per run, medians of {len(runs) // len(labels)} runs")
for path, label in labels.items():
    mine = [r for r in runs if r["path"] == path]
    if not mine or any(r["round_trips"] != requests for r in mine):
        sys.exit(f"bench-zmq: {path}: expected {requests} round trips in every run")
    p = {k: statistics.median(r[k] for r in mine) for k in ("p50_us", "p90_us", "p99_us")}
    print(f"  {label:58s} p50 {p['p50_us']:6.0f} µs  p90 {p['p90_us']:6.0f} µs  p99 {p['p99_us']:6.0f} µs")
PY
