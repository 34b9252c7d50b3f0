#!/usr/bin/env bash
# Load test: one decnet-master with AGENTS simulated agents (load-agents: CURVE, a few socket threads per process)
# heartbeating every INTERVAL seconds for SECONDS seconds on loopback. Monitors on the master's XPUB account for
# every heartbeat; the master's CPU and memory come from /proc. Then the master is killed (-9) and restarted on the
# same ports, and the script measures how long until every agent is connected again (`decnet-master agents --json`),
# with the handshakes per second the restarted master accepted and its CPU over the storm (from its metrics).
#
#   scripts/load-test.sh [AGENTS] [SECONDS] [INTERVAL]     default 1000 agents, 180 s, a heartbeat every 1 s
#
# The agents are split over several load-agents processes (DECNET_LOAD_PROCESSES, default one per 2,000 agents: a
# simulated agent holds 8 descriptors and a process may hold 20,000 on these machines). Each has its own id prefix
# and its own monitor subscribed to its agents' topics. All connect at once (the connection storm: any refused
# handshake fails the run), and all start heartbeating together once every one of them is ready, so the master sees
# the whole fleet in one steady phase.
#
# Fails (exit 1) when a heartbeat sent to a subscribed master never reached a monitor, when a handshake was refused,
# or when not every agent came back after the restart. The master serves its metrics (--metrics) and the summary
# shows its own figures (heartbeats relayed, gaps, drops, read with prometheus_client's parser) beside load-agents'.
# Environment:
#   DECNET_BIN_DIR         use the binaries there (decnet-master, load-agents) instead of building
#   DECNET_LOAD_CONFIG     build configuration when building (default release)
#   DECNET_SCRATCH_PATH    swift build --scratch-path when building
#   DECNET_LOAD_OUT        copy the reports, summary.json and the logs into this folder
#   DECNET_LOAD_PROCESSES  load-agents processes (1 to 16)
# Traffic goes only to 127.0.0.1; every wait is bounded and the simulated agents stop by themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

agents=${1:-1000}
seconds=${2:-180}
interval=${3:-1}
processes=${DECNET_LOAD_PROCESSES:-$(((agents + 1999) / 2000))}
[ "$processes" -ge 1 ] && [ "$processes" -le 16 ] && [ "$processes" -le "$agents" ] \
  || { log "DECNET_LOAD_PROCESSES must be 1 to 16 and at most AGENTS"; exit 2; }
observe=$((120 + agents / 10))   # upper bound on load-agents' restart window; the script ends it sooner
connect_timeout=$((120 + agents / 50))

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

start_master() { start_load_master --metrics "127.0.0.1:$port_x"; }
connected_agents() {
  "$bin/decnet-master" agents --dir "$master_dir" --json 2>/dev/null \
    | python3 -c 'import json, sys; print(sum(1 for a in json.load(sys.stdin)["agents"] if a["connected"]))' \
    2>/dev/null || echo 0
}
scrape_metrics() {  # FILE: the master's figures from its metrics endpoint, as JSON
  python3 - "http://127.0.0.1:$port_x/metrics" >"$1" <<'PY'
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
handshakes = {k: int(v) for k, v in values.get("decnet_master_handshakes_total", {}).items() if v}
print(json.dumps({
    "heartbeats_relayed": one("decnet_master_heartbeats_relayed_total"),
    "heartbeat_gaps": one("decnet_master_heartbeat_gaps_total"),
    "dropped_total": sum(dropped.values()),
    "dropped": {k: v for k, v in sorted(dropped.items()) if v},
    "agents_connected": one("decnet_master_agents_connected"),
    "descriptors_open": one("decnet_master_descriptors_open"),
    "handshakes": handshakes,
}))
PY
}
proc_usage() {  # PID -> "cpu_seconds vmhwm_kib vmrss_kib"
  python3 - "$1" <<'PY'
import os, sys
pid = sys.argv[1]
fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status") if ":" in line)
print(cpu, status["VmHWM"].split()[0], status["VmRSS"].split()[0])
PY
}
# Exits the script, with the processes' last lines, when a load-agents process has ended early.
all_load_agents_running() {
  local pid
  for pid in $load_pid; do
    kill -0 "$pid" 2>/dev/null || { log "a load-agents process exited early"; tail -n 5 "$work"/load-agents-*.log >&2; exit 1; }
  done
}
# Samples the restarted master every 0.5 s until the file $work/storm.stop exists: time, its CPU seconds and those of
# load-agents, and the handshakes its metrics count, one JSON line each, into $work/storm.jsonl.
sample_storm() {
  python3 - "$master_pid" "http://127.0.0.1:$port_x/metrics" "$work/storm.stop" $load_pid >"$work/storm.jsonl" <<'PY' &
import json, os, sys, time, urllib.request
from prometheus_client.parser import text_string_to_metric_families
pid, url, stop, *load_pids = sys.argv[1:]
tick = os.sysconf("SC_CLK_TCK")
start = time.monotonic()
def cpu_of(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick
while not os.path.exists(stop):
    try:
        cpu = cpu_of(pid)
        load_cpu = sum(cpu_of(p) for p in load_pids)
        # refused: by ZAP (failed_auth); broken: the handshake failed otherwise (a protocol error, or the peer went).
        accepted = refused = broken = 0
        for family in text_string_to_metric_families(urllib.request.urlopen(url, timeout=2).read().decode()):
            for s in family.samples:
                if s.name == "decnet_master_handshakes_total" and s.labels.get("socket") in ("command", "heartbeat"):
                    outcome = s.labels.get("outcome")
                    if outcome == "succeeded": accepted += int(s.value)
                    elif outcome == "failed_auth": refused += int(s.value)
                    elif outcome in ("failed_protocol", "failed_other"): broken += int(s.value)
        print(json.dumps({"t": round(time.monotonic() - start, 2), "cpu": cpu, "load_cpu": load_cpu,
                          "accepted": accepted, "refused": refused, "broken": broken}), flush=True)
    except Exception as error:
        print(json.dumps({"t": round(time.monotonic() - start, 2), "error": str(error)}), flush=True)
    time.sleep(0.5)
PY
  storm_pid=$!
}

log "master on 127.0.0.1:$port_c/$port_h/$port_m; $agents agents in $processes load-agents processes," \
  "a heartbeat every $interval s for $seconds s; files in $work"
mkdir -p "$master_dir/agents" "$master_dir/monitors"
"$bin/decnet-master" keygen --dir "$master_dir" --name master --role master >/dev/null
start_master

for i in $(seq 0 $((processes - 1))); do
  share=$(( agents / processes + (i < agents % processes ? 1 : 0) ))
  prefix="load-$(printf '%02d' "$i")-"
  [ "$processes" -eq 1 ] && prefix="load-"
  "$bin/load-agents" --agents "$share" --id-prefix "$prefix" --master-dir "$master_dir" \
    --endpoint "tcp://127.0.0.1:$port_c" \
    --heartbeat-endpoint "tcp://127.0.0.1:$port_h" --monitor-endpoint "tcp://127.0.0.1:$port_m" \
    --heartbeat-interval "$interval" --duration "$seconds" --observe "$observe" --master-pid "$master_pid" \
    --connect-timeout "$connect_timeout" --ready-file "$work/ready-$i" --go-file "$work/go" \
    --report "$work/report-$i.json" 2>"$work/load-agents-$i.log" &
  load_pid="$load_pid $!"
done

# Every process ready (all agents connected and subscribed), then one start for all.
deadline=$((SECONDS + connect_timeout + 60))
while true; do
  ready=$(find "$work" -maxdepth 1 -name 'ready-*' | wc -l)
  [ "$ready" -ge "$processes" ] && break
  all_load_agents_running
  [ $SECONDS -lt $deadline ] || { log "the fleet never got ready ($ready of $processes processes)"; exit 1; }
  sleep 0.2
done
touch "$work/go"
log "all $processes processes ready; steady phase of $seconds s"

# The steady phase: SECONDS plus the grace period.
deadline=$((SECONDS + seconds + 120))
for i in $(seq 0 $((processes - 1))); do
  while ! python3 -c 'import json, sys; sys.exit(0 if "steady" in json.load(open(sys.argv[1])) else 1)' \
    "$work/report-$i.json" 2>/dev/null; do
    all_load_agents_running
    [ $SECONDS -lt $deadline ] || { log "no steady-phase report in time"; exit 1; }
    sleep 1
  done
done
scrape_metrics "$work/metrics.json" || { log "the master's metrics endpoint did not answer"; exit 1; }
log "steady phase done; killing the master (-9) and restarting it"

kill -KILL "$master_pid"
wait "$master_pid" 2>/dev/null || true
killed_at=$(now)
start_master
ready_at=$(now)
storm_pid=""
sample_storm
back_at=""
back=0
for _ in $(seq 1 $((2 * (120 + agents / 10)))); do
  back=$(connected_agents)
  if [ "$back" -ge "$agents" ]; then back_at=$(now); break; fi
  sleep 0.5
done
sleep 1
touch "$work/storm.stop"
wait "$storm_pid" 2>/dev/null || true
read -r restart_cpu restart_hwm restart_rss < <(proc_usage "$master_pid")
log "$back of $agents agents connected again"
# Let every agent send at least one heartbeat after it subscribed again (one interval and a half, at least 5 s)
# before load-agents reports.
sleep "$(python3 -c "print(max(5.0, 1.5 * float('$interval')))")"
for pid in $load_pid; do stop_process "$pid"; done
load_pid=""

python3 - "$work" "$processes" "$agents" "$seconds" "$interval" "$killed_at" "$ready_at" "${back_at:-}" "$back" \
  "$restart_cpu" "$restart_hwm" "$restart_rss" <<'PY'
import json, sys
work, processes, agents, seconds, interval, killed, ready, back_at, back, cpu, hwm, rss = sys.argv[1:]
processes, agents, killed, ready = int(processes), int(agents), float(killed), float(ready)
metrics = json.load(open(f"{work}/metrics.json"))
reports = [json.load(open(f"{work}/report-{i}.json")) for i in range(processes)]
steadies = [r["steady"] for r in reports]
total = lambda key: sum(s[key] for s in steadies)
def worst(key):  # the largest percentile over the processes (each process's own distribution)
    rows = [s[key] for s in steadies if s.get(key)]
    return {p: max(r[p] for r in rows) for p in rows[0]} if rows else None
restarts = [r.get("restart", {}) for r in reports]
storm = [json.loads(line) for line in open(f"{work}/storm.jsonl") if '"cpu"' in line]
rates, peak = [], 0
for a, b in zip(storm, storm[1:]):
    rate = (b["accepted"] - a["accepted"]) / max(0.001, b["t"] - a["t"])
    rates.append(round(rate))
storm_cpu = round(storm[-1]["cpu"] - storm[0]["cpu"], 2) if len(storm) > 1 else None
storm_load_cpu = round(storm[-1]["load_cpu"] - storm[0]["load_cpu"], 2) if len(storm) > 1 else None
storm_seconds = round(storm[-1]["t"] - storm[0]["t"], 2) if len(storm) > 1 else None
load_cpu = [s["load_agents_process"] for s in steadies]
summary = {
    "agents": agents, "seconds": float(seconds), "heartbeat_interval_s": float(interval),
    "processes": processes, "shards": sum(r["shards"] for r in reports),
    "setup": {
        "connect_all_ms": max(r["setup"]["connect_all_ms"] for r in reports),
        "handshake_failures": sum(r["setup"]["handshake_failures"] for r in reports),
        "ready_agents": sum(r["setup"]["ready_agents"] for r in reports),
    },
    "heartbeats": {k: total(k) for k in ("sent", "received", "lost", "sent_unsubscribed", "duplicates", "out_of_order")},
    "heartbeats_per_second": round(sum(s["heartbeats_per_second"] for s in steadies), 1),
    "relay_latency_ms": worst("relay_latency_ms"), "schedule_lag_ms": worst("schedule_lag_ms"),
    "master_process": steadies[0]["master_process"],
    "load_agents_processes": load_cpu,
    "load_agents_cpu_percent_total": round(sum(p.get("cpu_percent_avg", 0) for p in load_cpu), 1),
    "master_counters": steadies[0]["master_counters"],
    "master_metrics": metrics,
    "restart": {
        "connected_again": int(back),
        "master_ready_after_kill_ms": round((ready - killed) * 1000),
        "all_connected_after_kill_ms": round((float(back_at) - killed) * 1000) if back_at else None,
        "all_connected_after_ready_ms": round((float(back_at) - ready) * 1000) if back_at else None,
        "restarted_master_cpu_seconds": float(cpu), "restarted_master_hwm_kib": int(hwm),
        "restarted_master_rss_kib": int(rss),
        "storm": {"handshakes_accepted_per_second": rates, "peak_per_second": max(rates, default=0),
                  "handshakes_refused": storm[-1]["refused"] if storm else None,
                  "handshakes_broken": storm[-1]["broken"] if storm else None,
                  "master_cpu_seconds": storm_cpu, "load_agents_cpu_seconds": storm_load_cpu,
                  "seconds": storm_seconds},
        "seen_by_agents": {
            "reconnected_agents": sum(r.get("reconnected_agents", 0) for r in restarts),
            "heartbeats_resumed_agents": sum(r.get("heartbeats_resumed_agents", 0) for r in restarts),
            "all_back_after_ms": max((r.get("all_back_after_ms") or 0) for r in restarts),
            "back_after_ms": [r.get("back_after_ms") for r in restarts],
        },
    },
}
json.dump(summary, open(f"{work}/summary.json", "w"), indent=1)
print(json.dumps(summary, indent=1))
problems = []
h = summary["heartbeats"]
if h["lost"] != 0: problems.append(f'{h["lost"]} heartbeats lost: {[s["agents_with_loss"][:3] for s in steadies]}')
if h["sent_unsubscribed"] != 0: problems.append(f'{h["sent_unsubscribed"]} heartbeats sent with no subscriber')
if h["duplicates"] != 0: problems.append(f'{h["duplicates"]} duplicate heartbeats')
if h["received"] != h["sent"]: problems.append(f'{h["received"]} heartbeats received of {h["sent"]} sent')
if summary["setup"]["handshake_failures"]:
    problems.append(f'{summary["setup"]["handshake_failures"]} handshakes refused while the fleet connected')
counters = steadies[0]["master_counters"] or {}
if counters.get("heartbeat_gaps", 0) != 0: problems.append(f'the master saw {counters["heartbeat_gaps"]} heartbeat gaps')
if counters.get("dropped_total", 0) != 0: problems.append(f'the master dropped {counters["dropped_total"]} messages')
if metrics["heartbeats_relayed"] < h["received"]:
    problems.append(f'metrics: {metrics["heartbeats_relayed"]} heartbeats relayed, the monitors got {h["received"]}')
if metrics["dropped_total"] != 0: problems.append(f'metrics: the master dropped {metrics["dropped"]}')
if metrics["heartbeat_gaps"] != 0: problems.append(f'metrics: the master saw {metrics["heartbeat_gaps"]} gaps')
print(f'heartbeats: load-agents sent {h["sent"]}, the monitors got {h["received"]}; the master (metrics, read after '
      f'the steady phase) relayed {metrics["heartbeats_relayed"]}, dropped {metrics["dropped_total"]}, '
      f'gaps {metrics["heartbeat_gaps"]}', file=sys.stderr)
rows = [row for s in steadies for row in s.get("per_agent", [])]
if len(rows) != agents: problems.append(f"per-agent accounting has {len(rows)} rows for {agents} agents")
bad_rows = [row for row in rows if len(row) != 4 or row[3] != 0 or row[1] != row[2]]
if bad_rows: problems.append(f"per-agent accounting disagrees for {len(bad_rows)} agents: {bad_rows[:3]}")
if sum(row[1] for row in rows if len(row) == 4) != h["sent"]: problems.append("per-agent sent does not add up")
if h["sent"] < agents * (float(seconds) / float(interval) - 2): problems.append(f'only {h["sent"]} heartbeats sent')
if int(back) != agents: problems.append(f"only {back} of {agents} agents connected after the restart")
seen = summary["restart"]["seen_by_agents"]
if seen["reconnected_agents"] != agents: problems.append(f"agents saw {seen} after the restart")
if seen["heartbeats_resumed_agents"] != agents: problems.append("heartbeats did not resume for every agent")
if summary["restart"]["storm"]["handshakes_refused"]:
    problems.append(f'{summary["restart"]["storm"]["handshakes_refused"]} handshakes refused after the restart')
for p in problems: print("FAIL:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
log "load test passed"
