#!/usr/bin/env bash
# Reconcile under load: one decnet-master with AGENTS simulated agents (load-agents, heartbeating every second), each
# given a desired topology through the control channel (`desire`, as `decnet-master apply` sends it). The simulated
# agents record what they are sent and report it, so the fleet is in sync once every desire succeeded. Then:
#
#   1. steady: SECONDS of heartbeats; the master must start no push at all (goal and threshold: 0);
#   2. restart: the master is killed (-9) and restarted on the same directory and ports; once every agent said hello
#      again and SETTLE seconds passed, the pushes the new master started are counted (goal 0; reported as N).
#
#   scripts/reconcile-load.sh [AGENTS] [SECONDS] [SETTLE]      default 200 agents, 300 s, 30 s
#
# Exit 1 when a push happened in the steady phase, when not every agent came back in sync, or when the restarted
# master pushed more than DECNET_RECONCILE_RESTART_MAX (default 0). Environment as for scripts/load-test.sh:
# DECNET_BIN_DIR, DECNET_LOAD_CONFIG, DECNET_SCRATCH_PATH, DECNET_LOAD_OUT. Traffic goes only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

agents=${1:-200}
seconds=${2:-300}
settle=${3:-30}
restart_max=${DECNET_RECONCILE_RESTART_MAX:-0}

load_binaries
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/decnet-reconcile.XXXXXX)
master_dir=$work/master
master_pid=""
load_pid=""
read -r port_c port_h port_m < <(free_ports 3)

trap 'finish_load_run "reconcile load test"' EXIT

start_master() { start_load_master; }

# One line of numbers about the fleet: connected agents, agents in sync, reconcile pushes, requests sent.
fleet_numbers() {
  python3 - "$bin/decnet-master" "$master_dir" <<'EOF'
import json, subprocess, sys
master, directory = sys.argv[1:]
def ask(*args):
    out = subprocess.run([master, *args, "--dir", directory, "--json"], capture_output=True, timeout=30)
    return json.loads(out.stdout) if out.returncode == 0 else None
fleet, desired = ask("agents"), ask("desired")
if fleet is None or desired is None:
    print(0, 0, 0, 0); sys.exit(0)
connected = sum(1 for a in fleet["agents"] if a["connected"])
in_sync = sum(1 for a in desired["agents"] if a["in_sync"])
pushes = sum(a["reconcile"]["pushes"] for a in desired["agents"])
print(connected, in_sync, pushes, fleet["counters"]["requests"]["sent"])
EOF
}

wait_for() {  # WHAT SECONDS CONDITION(connected in_sync pushes sent)
  local what=$1 limit=$2 condition=$3
  local deadline=$((SECONDS + limit))
  while [ $SECONDS -lt "$deadline" ]; do
    read -r connected in_sync pushes sent < <(fleet_numbers)
    if eval "$condition"; then return 0; fi
    sleep 1
  done
  log "$what: not within $limit s (connected $connected, in sync $in_sync, pushes $pushes)"
  return 1
}

log "master on 127.0.0.1:$port_c/$port_h/$port_m; $agents agents, $seconds s steady; files in $work"
mkdir -p "$master_dir/agents" "$master_dir/monitors"
"$bin/decnet-master" keygen --dir "$master_dir" --name master --role master >/dev/null
start_master

"$bin/load-agents" --agents "$agents" --master-dir "$master_dir" --endpoint "tcp://127.0.0.1:$port_c" \
  --heartbeat-endpoint "tcp://127.0.0.1:$port_h" --monitor-endpoint "tcp://127.0.0.1:$port_m" \
  --heartbeat-interval 1 --duration $((seconds + 600)) --report "$work/load-report.json" \
  2>"$work/load-agents.log" &
load_pid=$!
wait_for "every agent connected" $((120 + agents / 5)) '[ "$connected" -ge "$agents" ]'

# The desired topology (the same one for every agent), hashed as the CLI hashes it.
cat >"$work/topology.json" <<'EOF'
{"topology": {"id": "reconcile-load", "name": "reconcile load", "status": "pending"}, "lans": [], "deckies": []}
EOF
hash=$("$bin/decnet-master" hash "$work/topology.json")
log "sending $agents desires (topology hash $hash)"
desire_started=$(date +%s.%N)
python3 - "$master_dir/control.ipc" "$agents" "$hash" "$work/topology.json" <<'EOF'
import json, sys, time, zmq
endpoint, agents, version_hash, topology = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
hydrated = json.load(open(topology))
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.linger = 0
s.connect("ipc://" + endpoint)
ids = {f"load-{n:05d}": f"desire-{n}" for n in range(1, agents + 1)}
def send(agent, rid):
    s.send(json.dumps({"proto": 1, "type": "desire", "agent_id": agent, "timeout_ms": 120000,
                       "request": {"proto": 1, "type": "apply", "id": rid, "hydrated": hydrated,
                                   "version_hash": version_hash, "supersede": False}}).encode())
for agent, rid in ids.items():
    send(agent, rid)
waiting = {rid: agent for agent, rid in ids.items()}
deadline = time.monotonic() + 180
while waiting and time.monotonic() < deadline:
    if not s.poll(3000):
        for rid, agent in waiting.items():
            send(agent, rid)  # a repeat attaches, or returns the stored outcome
        continue
    m = json.loads(s.recv())
    if m["type"] == "control_error":
        sys.exit(f"refused: {m}")
    if m["type"] == "answer" and m["message"]["type"] == "result":
        if m["message"]["status"] != 200:
            sys.exit(f"failed: {m}")
        waiting.pop(m["id"], None)
sys.exit(f"{len(waiting)} desires unanswered" if waiting else 0)
EOF
desire_done=$(date +%s.%N)
wait_for "every agent in sync" 120 '[ "$in_sync" -ge "$agents" ]'
read -r _ _ pushes_before sent_before < <(fleet_numbers)
log "all $agents agents in sync; steady phase of $seconds s"
sleep "$seconds"
read -r connected_steady in_sync_steady pushes_steady sent_steady < <(fleet_numbers)
log "steady: $((pushes_steady - pushes_before)) pushes, $((sent_steady - sent_before)) requests sent"

log "killing the master (-9) and restarting it"
kill -KILL "$master_pid"
wait "$master_pid" 2>/dev/null || true
killed_at=$(date +%s.%N)
start_master
wait_for "every agent back" $((120 + agents / 5)) '[ "$connected" -ge "$agents" ]'
back_at=$(date +%s.%N)
sleep "$settle"
read -r connected_after in_sync_after pushes_after sent_after < <(fleet_numbers)
log "after the restart: $pushes_after pushes, $in_sync_after of $agents in sync"

python3 - "$work/summary.json" "$agents" "$seconds" "$settle" "$desire_started" "$desire_done" \
  "$pushes_before" "$pushes_steady" "$sent_before" "$sent_steady" "$in_sync_steady" "$killed_at" "$back_at" \
  "$pushes_after" "$sent_after" "$in_sync_after" "$restart_max" <<'EOF'
import json, sys
(out, agents, seconds, settle, d0, d1, p0, p1, s0, s1, sync1, killed, back, p2, s2, sync2, restart_max) = sys.argv[1:]
agents = int(agents)
summary = {
    "agents": agents, "steady_seconds": float(seconds), "settle_seconds": float(settle),
    "desires_ms": round((float(d1) - float(d0)) * 1000),
    "steady": {"pushes": int(p1) - int(p0), "requests_sent": int(s1) - int(s0), "in_sync": int(sync1)},
    "restart": {"all_back_after_kill_ms": round((float(back) - float(killed)) * 1000), "pushes": int(p2),
                "requests_sent": int(s2), "in_sync": int(sync2)},
}
json.dump(summary, open(out, "w"), indent=1)
print(json.dumps(summary, indent=1))
problems = []
if summary["steady"]["pushes"] != 0 or summary["steady"]["requests_sent"] != 0:
    problems.append(f'the steady fleet caused {summary["steady"]}')
if int(sync1) != agents: problems.append(f"only {sync1} of {agents} in sync after the steady phase")
if int(p2) > int(restart_max): problems.append(f"the restarted master pushed {p2} times (at most {restart_max})")
if int(sync2) != agents: problems.append(f"only {sync2} of {agents} in sync after the restart")
for p in problems: print("FAIL:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
log "reconcile load test passed"
