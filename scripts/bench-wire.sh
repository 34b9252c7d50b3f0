#!/usr/bin/env bash
# `state` round trips over CURVE on loopback and the agent's memory, ours side by side with the anchors:
#   ours  the real `decnet-agent run` (release build) driven by a pyzmq ROUTER master (interop/wire_master.py)
#   (a)   the floor: a pyzmq DEALER echo over CURVE answering the same state body (bench/wire_floor.py)
#   (b)   uvicorn + FastAPI over HTTPS with client certificates, same body (bench/https_state.py)
#   seed  the seed agent's 56 state req/s and 75 MiB, as stated in the issue (not measured here)
# Sequential and 16 in flight; memory idle and after a 20-decky apply on the real dockerd. Prints the table and
# writes it into docs/performance.md (sections "Wire (state round trips)" and "Memory"). A few minutes at most;
# every container it creates is removed, also on failure.
# Usage: scripts/bench-wire.sh [REQUESTS] [ROUNDS]    (default 2000 5)
# Set DECNET_SCRATCH_PATH to build into another scratch path than .build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
requests=${1:-2000}; rounds=${2:-5}

DECNET_PIP_PACKAGES+=(fastapi uvicorn cryptography)
ensure_apt_packages
ensure_python_packages
ensure_docker >/dev/null

scratch=()
[ -n "${DECNET_SCRATCH_PATH:-}" ] && scratch=(--scratch-path "$DECNET_SCRATCH_PATH")
log "building decnet-agent (release)"
swift build "${scratch[@]}" -c release --product decnet-agent >/dev/null
bin=$(swift build "${scratch[@]}" -c release --show-bin-path)/decnet-agent

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
log "measuring ($requests requests x $rounds rounds; about a minute)"
timeout 600 python3 bench/wire_bench.py --agent-bin "$bin" --requests "$requests" --rounds "$rounds" \
  --json "$tmp/results.json"
python3 bench/wire_report.py "$tmp/results.json" --doc docs/performance.md
