#!/usr/bin/env bash
# Load test: one decnet-master with AGENTS simulated agents (load-agents: CURVE, one process, a few socket threads)
# heartbeating every second for SECONDS seconds on loopback. A monitor on the master's XPUB accounts for every
# heartbeat; the master's CPU and memory come from /proc. Then the master is killed (-9) and restarted on the same
# ports, and the script measures how long until every agent is connected again (`decnet-master agents --json`).
#
#   scripts/load-test.sh [AGENTS] [SECONDS]          default 1000 agents, 180 s
#
# Fails (exit 1) when a heartbeat sent to a subscribed master never reached the monitor, or when not every agent
# came back after the restart. The master serves its metrics (--metrics) and the summary shows its own figures
# (heartbeats relayed, gaps, drops, read from the endpoint with prometheus_client's parser) beside load-agents'.
# Environment:
#   DECNET_BIN_DIR       use the binaries there (decnet-master, load-agents) instead of building
#   DECNET_LOAD_CONFIG   build configuration when building (default release)
#   DECNET_SCRATCH_PATH  swift build --scratch-path when building
#   DECNET_LOAD_OUT      copy report.json, summary.json and the logs into this folder
# Traffic goes only to 127.0.0.1; every wait is bounded and the simulated agents stop by themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

agents=${1:-1000}
seconds=${2:-180}
observe=$((120 + agents / 10))   # upper bound on load-agents' restart window; the script ends it sooner

load_binaries
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/decnet-load.XXXXXX)
master_dir=$work/master
master_pid=""
load_pid=""
ensure_python_packages
read -r port_c port_h port_m port_x < <(free_ports 4)

trap 'finish_load_run "load test"' EXIT

now() { date +%s.%N; }
elapsed_ms() { python3 -c "import sys; print(round((float(sys.argv[2]) - float(sys.argv[1])) * 1000))" "$1" "$2"; }

start_master() { start_load_master --metrics "127.0.0.1:$port_x"; }
connected_agents() {
  "$bin/decnet-master" agents --dir "$master_dir" --json 2>/dev/null \
    | python3 -c 'import json, sys; print(sum(1 for a in json.load(sys.stdin)["agents"] if a["connected"]))' \
    2>/dev/null || echo 0
}
scrape_metrics() {  # FILE: the master's figures from its metrics endpoint, as JSON
  python3 - "http://127.0.0.1:$port_x/metrics" >"$1" <<'EOF'
import json, sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families
text = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
values = {}
for family in text_string_to_metric_families(text):
    for sample in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
        values.setdefault(sample.name, {})[labels] = sample.value
one = lambda name: int(values[name][""])
dropped = {k.split("=", 1)[1]: int(v) for k, v in values["decnet_master_messages_dropped_total"].items()}
print(json.dumps({
    "heartbeats_relayed": one("decnet_master_heartbeats_relayed_total"),
    "heartbeat_gaps": one("decnet_master_heartbeat_gaps_total"),
    "dropped_total": sum(dropped.values()),
    "dropped": {k: v for k, v in sorted(dropped.items()) if v},
    "agents_connected": one("decnet_master_agents_connected"),
    "descriptors_open": one("decnet_master_descriptors_open"),
}))
EOF
}
proc_usage() {  # PID -> "cpu_seconds vmhwm_kib vmrss_kib"
  python3 - "$1" <<'EOF'
import os, sys
pid = sys.argv[1]
fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status") if ":" in line)
print(cpu, status["VmHWM"].split()[0], status["VmRSS"].split()[0])
EOF
}

log "master on 127.0.0.1:$port_c/$port_h/$port_m; $agents agents for $seconds s; files in $work"
mkdir -p "$master_dir/agents" "$master_dir/monitors"
"$bin/decnet-master" keygen --dir "$master_dir" --name master --role master >/dev/null
start_master

"$bin/load-agents" --agents "$agents" --master-dir "$master_dir" --endpoint "tcp://127.0.0.1:$port_c" \
  --heartbeat-endpoint "tcp://127.0.0.1:$port_h" --monitor-endpoint "tcp://127.0.0.1:$port_m" \
  --heartbeat-interval 1 --duration "$seconds" --observe "$observe" --master-pid "$master_pid" \
  --report "$work/report.json" 2>"$work/load-agents.log" &
load_pid=$!

# The steady phase: setup (keys, connections) plus SECONDS plus the grace period.
deadline=$((SECONDS + seconds + 240))
while [ ! -s "$work/report.json" ]; do
  kill -0 "$load_pid" 2>/dev/null || { log "load-agents exited early"; tail -5 "$work/load-agents.log" >&2; exit 1; }
  [ $SECONDS -lt $deadline ] || { log "no steady-phase report in time"; exit 1; }
  sleep 1
done
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); sys.exit(0 if "steady" in r else 1)' \
  "$work/report.json" || { log "the fleet never got ready"; cat "$work/report.json" >&2; exit 1; }
scrape_metrics "$work/metrics.json" || { log "the master's metrics endpoint did not answer"; exit 1; }
log "steady phase done; killing the master (-9) and restarting it"

kill -KILL "$master_pid"
wait "$master_pid" 2>/dev/null || true
killed_at=$(now)
start_master
ready_at=$(now)
back_at=""
back=0
for _ in $(seq 1 $((2 * (120 + agents / 10)))); do
  back=$(connected_agents)
  if [ "$back" -ge "$agents" ]; then back_at=$(now); break; fi
  sleep 0.5
done
read -r restart_cpu restart_hwm restart_rss < <(proc_usage "$master_pid")
log "$back of $agents agents connected again"
sleep 5   # let heartbeats resume everywhere before load-agents reports
stop_process "$load_pid"
load_pid=""

python3 - "$work/report.json" "$agents" "$seconds" "$killed_at" "$ready_at" "${back_at:-}" "$back" \
  "$restart_cpu" "$restart_hwm" "$restart_rss" "$work/summary.json" "$work/metrics.json" <<'EOF'
import json, sys
report_path, agents, seconds, killed, ready, back_at, back, cpu, hwm, rss, out, metrics_path = sys.argv[1:]
metrics = json.load(open(metrics_path))
agents = int(agents)
r = json.load(open(report_path))
s = r["steady"]
restart = r.get("restart", {})
summary = {
    "agents": agents, "seconds": float(seconds), "shards": r["shards"],
    "setup": r["setup"],
    "heartbeats": {k: s[k] for k in ("sent", "received", "lost", "sent_unsubscribed", "duplicates", "out_of_order")},
    "heartbeats_per_second": s["heartbeats_per_second"],
    "relay_latency_ms": s["relay_latency_ms"], "schedule_lag_ms": s["schedule_lag_ms"],
    "master_process": s["master_process"], "load_agents_process": s["load_agents_process"],
    "master_counters": s["master_counters"],
    "master_metrics": metrics,
    "restart": {
        "connected_again": int(back),
        "master_ready_after_kill_ms": round((float(ready) - float(killed)) * 1000),
        "all_connected_after_kill_ms": round((float(back_at) - float(killed)) * 1000) if back_at else None,
        "restarted_master_cpu_seconds": float(cpu), "restarted_master_hwm_kib": int(hwm),
        "restarted_master_rss_kib": int(rss),
        "seen_by_agents": restart,
    },
}
json.dump(summary, open(out, "w"), indent=1)
print(json.dumps(summary, indent=1))
problems = []
if s["lost"] != 0: problems.append(f'{s["lost"]} heartbeats lost: {s["agents_with_loss"][:3]}')
if s["sent_unsubscribed"] != 0: problems.append(f'{s["sent_unsubscribed"]} heartbeats sent with no subscriber')
if s["duplicates"] != 0: problems.append(f'{s["duplicates"]} duplicate heartbeats')
if s["received"] != s["sent"]: problems.append(f'{s["received"]} heartbeats received of {s["sent"]} sent')
counters = s["master_counters"] or {}
if counters.get("heartbeat_gaps", 0) != 0: problems.append(f'the master saw {counters["heartbeat_gaps"]} heartbeat gaps')
if counters.get("dropped_total", 0) != 0: problems.append(f'the master dropped {counters["dropped_total"]} messages')
if metrics["heartbeats_relayed"] < s["received"]:
    problems.append(f'metrics: {metrics["heartbeats_relayed"]} heartbeats relayed, the monitor got {s["received"]}')
if metrics["dropped_total"] != 0: problems.append(f'metrics: the master dropped {metrics["dropped"]}')
if metrics["heartbeat_gaps"] != 0: problems.append(f'metrics: the master saw {metrics["heartbeat_gaps"]} gaps')
print(f'heartbeats: load-agents sent {s["sent"]}, the monitor got {s["received"]}; the master (metrics, read after '
      f'the steady phase) relayed {metrics["heartbeats_relayed"]}, dropped {metrics["dropped_total"]}, '
      f'gaps {metrics["heartbeat_gaps"]}', file=sys.stderr)
rows = s.get("per_agent", [])
if len(rows) != agents: problems.append(f"per-agent accounting has {len(rows)} rows for {agents} agents")
bad_rows = [row for row in rows if len(row) != 4 or row[3] != 0 or row[1] != row[2]]
if bad_rows: problems.append(f"per-agent accounting disagrees for {len(bad_rows)} agents: {bad_rows[:3]}")
if sum(row[1] for row in rows if len(row) == 4) != s["sent"]: problems.append("per-agent sent does not add up")
if s["sent"] < agents * (float(seconds) - 2): problems.append(f'only {s["sent"]} heartbeats sent')
if int(back) != agents: problems.append(f"only {back} of {agents} agents connected after the restart")
if restart.get("reconnected_agents") != agents: problems.append(f"agents saw {restart} after the restart")
if restart.get("heartbeats_resumed_agents") != agents: problems.append("heartbeats did not resume for every agent")
for p in problems: print("FAIL:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
log "load test passed"
