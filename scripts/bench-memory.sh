#!/usr/bin/env bash
# What the agent's resident-memory trim buys (docs/architecture.md#memory): the release `decnet-agent run`, connected
# to a local master, idle, measured from /proc/PID/smaps_rollup with the trim and without it (an LD_PRELOAD shim
# turns madvise and malloc_trim into no-ops). Prints RSS, PSS, USS (private clean + private dirty) and anonymous
# memory in KiB for each, ROUNDS times each, side by side.
#
#   scripts/bench-memory.sh [ROUNDS] [IDLE_SECONDS]      defaults 3 and 20
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
rounds=${1:-3}
idle=${2:-20}

ensure_apt_packages
swift build -c release --product decnet-agent >/dev/null
swift build -c release --product decnet-master >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
gcc -shared -fPIC -O2 -o "$work/noop_trim.so" bench/noop_trim.c

"$bin/decnet-master" keygen --dir "$work/master" --name master --role master >/dev/null
mkdir -p "$work/master/agents" "$work/master/monitors" "$work/keys"
"$bin/decnet-master" keygen --dir "$work/keys" --name mem --role agent --agent-id mem >/dev/null
cp "$work/keys/mem.key" "$work/master/agents/mem.key"
"$bin/decnet-master" serve --dir "$work/master" --bind-host 127.0.0.1 --command-port 0 --heartbeat-port 0 \
  --monitor-port 0 >"$work/master.log" 2>&1 &
for _ in $(seq 100); do grep -q "master serving" "$work/master.log" && break; sleep 0.1; done
command=$(grep -o 'command=tcp://[0-9.:]*' "$work/master.log" | head -1 | cut -d= -f2)
heartbeat=$(grep -o 'heartbeat=tcp://[0-9.:]*' "$work/master.log" | head -1 | cut -d= -f2)

measure() {  # $1: label, $2: LD_PRELOAD value or empty
  rm -rf "$work/state"
  env ${2:+LD_PRELOAD=$2} "$bin/decnet-agent" run --agent-id mem --master-endpoint "$command" \
    --heartbeat-endpoint "$heartbeat" --master-key "$work/master/master.key" --key "$work/keys/mem.key_secret" \
    --state-dir "$work/state" --heartbeat-interval 5 >"$work/agent.log" 2>&1 &
  local pid=$!
  sleep "$idle"
  awk -v label="$1" '
    /^Rss:/ {rss=$2} /^Pss:/ {pss=$2} /^Private_Clean:/ {pc=$2} /^Private_Dirty:/ {pd=$2} /^Anonymous:/ {anon=$2}
    END {printf "%-12s rss %6d  pss %6d  uss %6d  anon %6d\n", label, rss, pss, pc+pd, anon}' "/proc/$pid/smaps_rollup"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

for round in $(seq "$rounds"); do
  measure "trim" ""
  measure "no trim" "$work/noop_trim.so"
done
