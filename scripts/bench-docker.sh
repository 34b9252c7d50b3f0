#!/usr/bin/env bash
# Apply and teardown of a 20-decky topology (20 bases + 40 service containers, images present) on the real Docker
# Engine, side by side in one run:
#   ours:   decnet-agent local apply / local teardown (release build)
#   anchor: docker-compose (Debian's 1.29) up -d / down of the same document, and down -t 1 for fairness
#   floor:  the same Engine calls from a plain client with no agent logic (bench/docker/floor.py), concurrency swept
# Medians of ROUNDS rounds (default 3); everything it makes carries the run's own topology id and is removed at the
# end, also after a failure or Ctrl-C. Usage: scripts/bench-docker.sh [ROUNDS] [FLOOR_CONCURRENCIES]
# SWIFT_SCRATCH_PATH picks the build folder (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; concurrency=${2:-1,2,4,8}
scratch=${SWIFT_SCRATCH_PATH:-.build}
source scripts/lib.sh

if ! command -v docker-compose >/dev/null 2>&1; then DECNET_APT_PACKAGES=(docker-compose); ensure_apt_packages; fi
ensure_docker >/dev/null
log "building decnet-agent (release, $scratch)"
swift build -c release --scratch-path "$scratch" --product decnet-agent >/dev/null
log "measuring: $rounds rounds, floor concurrency $concurrency (about 2 to 3 minutes per round)"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), Docker Engine" \
  "$(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})'), $(docker-compose version --short)"
exec python3 bench/docker/bench.py --agent "$scratch/release/decnet-agent" --rounds "$rounds" --concurrency "$concurrency"
