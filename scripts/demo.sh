#!/usr/bin/env bash
# The main job, end to end on this machine: installs what it needs, starts dockerd if none answers, builds, makes
# CURVE keys, starts a master and an agent on loopback, applies a sample topology to the local Docker Engine through
# the master (showing progress), shows the state and a few heartbeats, tears down, and stops both cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_apt_packages
ensure_docker

log "building decnet-agent and decnet-master"
swift build --product decnet-agent >/dev/null
swift build --product decnet-master >/dev/null
bin=$(swift build --show-bin-path)

work=$(mktemp -d /tmp/decnet-demo.XXXXXX)
master_dir=$work/master
agent_dir=$work/agent
agent_id=demo-agent
topology=examples/topology.json
topology_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["topology"]["id"])' "$topology")
command_port=${DECNET_DEMO_COMMAND_PORT:-18771}
heartbeat_port=${DECNET_DEMO_HEARTBEAT_PORT:-18772}
monitor_port=${DECNET_DEMO_MONITOR_PORT:-18773}
master_pid=""
agent_pid=""

stop() {
  local name=$1 pid=$2
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then log "$name did not stop in 5 s; killing it"; kill -KILL "$pid"; fi
  wait "$pid" 2>/dev/null && log "$name stopped cleanly" || log "$name exited with status $?"
}
cleanup() {
  status=$?
  if [ $status -ne 0 ]; then
    log "something failed (status $status); logs are in $work"
    "$bin/decnet-agent" local teardown "$topology_id" --state-dir "$work/cleanup" >/dev/null 2>&1 || true
  fi
  stop agent "$agent_pid"
  stop master "$master_pid"
  exit $status
}
trap cleanup EXIT

log "making CURVE keys in $work"
mkdir -p "$master_dir/agents" "$master_dir/monitors" "$agent_dir/keys"
"$bin/decnet-master" keygen --dir "$master_dir" --name master --role master >/dev/null
"$bin/decnet-master" keygen --dir "$agent_dir/keys" --name "$agent_id" --role agent --agent-id "$agent_id" >/dev/null
cp "$agent_dir/keys/$agent_id.key" "$master_dir/agents/"   # enrol the agent: its public key in the allow-list

log "starting the master on 127.0.0.1:$command_port/$heartbeat_port/$monitor_port"
"$bin/decnet-master" serve --dir "$master_dir" --bind-host 127.0.0.1 --command-port "$command_port" \
  --heartbeat-port "$heartbeat_port" --monitor-port "$monitor_port" 2>"$work/master.log" &
master_pid=$!

log "starting the agent (it dials out; it listens on nothing)"
"$bin/decnet-agent" run --agent-id "$agent_id" \
  --master-endpoint "tcp://127.0.0.1:$command_port" --heartbeat-endpoint "tcp://127.0.0.1:$heartbeat_port" \
  --master-key "$master_dir/master.key" --key "$agent_dir/keys/$agent_id.key_secret" \
  --state-dir "$agent_dir/state" --templates-dir examples/templates --base-image decnet-test/busybox:latest \
  --heartbeat-interval 2 2>"$work/agent.log" &
agent_pid=$!

for _ in $(seq 1 100); do
  "$bin/decnet-master" agents --dir "$master_dir" --json 2>/dev/null | grep -q "\"$agent_id\"" && break
  sleep 0.2
done
"$bin/decnet-master" agents --dir "$master_dir"

log "applying $topology (topology $topology_id) through the master"
"$bin/decnet-master" apply --dir "$master_dir" --agent "$agent_id" "$topology" >"$work/apply.json"
python3 -m json.tool "$work/apply.json"

log "the agent's state (store + what Docker really runs + drift)"
"$bin/decnet-master" state --dir "$master_dir" --agent "$agent_id" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(json.dumps(r["body"], indent=2))'

log "the containers Docker runs for it"
docker ps --filter "label=decnet.topology.id=$topology_id" --format 'table {{.Names}}\t{{.Status}}\t{{.Ports}}'

log "a few heartbeats, as the fleet table a monitor sees"
for _ in 1 2 3; do
  sleep 2
  "$bin/decnet-master" watch --dir "$master_dir" --once
done

log "tearing down"
"$bin/decnet-master" teardown --dir "$master_dir" --agent "$agent_id" "$topology_id" | python3 -c '
import json, sys
print(json.dumps(json.load(sys.stdin)["body"], indent=2))'
left=$(docker ps -a -q --filter "label=decnet.topology.id=$topology_id" | wc -l)
log "containers left with the topology's label: $left"

log "stopping agent and master (SIGTERM)"
stop agent "$agent_pid"; agent_pid=""
stop master "$master_pid"; master_pid=""
log "done; logs in $work"
