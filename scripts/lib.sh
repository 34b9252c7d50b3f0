# Shared set-up steps for the project's scripts. Source it; every step is idempotent and quiet when done already.

# Debian packages the build, the tests and the demo need.
DECNET_APT_PACKAGES=(
  pkg-config libzmq3-dev libsodium-dev libsqlite3-dev   # C libraries (SwiftPM system-library targets)
  docker.io busybox-static                              # the real Docker Engine and a rootfs for local test images
  docker-compose                                        # benchmark baseline
  iproute2 iptables                                     # network-namespace fault tests
  socat strace                                          # Docker outage proxy, reconnect back-off measurement
  python3 python3-pip                                   # interop tests
)

log() { printf '==> %s\n' "$*" >&2; }

ensure_apt_packages() {
  local missing=()
  for p in "${DECNET_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Python packages for the interop and schema tests, installed for the python3 first on PATH (mypy checks the
# Python client, python/; wheel lets pip build it without fetching build tools).
DECNET_PIP_PACKAGES=(pyzmq pytest pytest-timeout jsonschema pyyaml prometheus-client mypy wheel)

ensure_python_packages() {
  local missing=()
  for p in "${DECNET_PIP_PACKAGES[@]}"; do
    local mod="$p"
    case "$p" in
      pyzmq) mod=zmq ;; pyyaml) mod=yaml ;; pytest-timeout) mod=pytest_timeout ;;
      prometheus-client) mod=prometheus_client ;;
    esac
    python3 -c "import $mod" 2>/dev/null || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Python packages: ${missing[*]}"
    python3 -m pip install -q --disable-pip-version-check "${missing[@]}" 2>/dev/null \
      || python3 -m pip install -q --disable-pip-version-check --break-system-packages "${missing[@]}"
  fi
}

# Installs the Python client (python/, docs/control-channel.md#python) from this checkout, as a user would. The
# interop tests import it from python/ either way (interop/conftest.py).
ensure_python_client() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  log "installing the Python client from python/"
  python3 -m pip install -q --disable-pip-version-check "$root/python" 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check --break-system-packages "$root/python"
}

# Starts dockerd when nothing answers on the socket and builds the local test images (no registry is reachable).
ensure_docker() {
  bash "$(dirname "${BASH_SOURCE[0]}")/docker-test-env.sh"
}

# Runs a test phase with a time bound, its output line-buffered (so a CI log shows how far it got) and kept in
# LOGFILE. When the bound passes, the phase is stopped and the Swift tests that started but never finished are named.
#   bounded_phase SECONDS LOGFILE command...
bounded_phase() {
  local seconds="$1" logfile="$2"
  shift 2
  local status=0
  timeout --kill-after=30 "$seconds" stdbuf -oL -eL "$@" 2>&1 | tee "$logfile" || status=${PIPESTATUS[0]}
  if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    log "TIME LIMIT: '$*' still ran after $seconds s and was stopped; started but not finished:"
    python3 - "$logfile" <<'PY' >&2
import re, sys
started, ended = [], set()
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"^\S+ (Test|Suite) (.+?) (started|passed|failed|skipped)", line)
    if m:
        (started.append if m.group(3) == "started" else ended.add)(m.group(2))
for name in started:
    if name not in ended:
        print("   ", name)
PY
  fi
  return "$status"
}

# Prints N free TCP ports on 127.0.0.1, space-separated (bound at once, so they differ).
free_ports() {
  python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])' "$1"
}

# Stops a child process of this shell: SIGTERM, up to 10 s to exit, then SIGKILL; reaps it. No-op when gone.
stop_process() {
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# For the load scripts: sets `bin` to the folder holding decnet-master and load-agents, DECNET_BIN_DIR when set, else
# a fresh build (DECNET_LOAD_CONFIG, default release; DECNET_SCRATCH_PATH for another build folder).
load_binaries() {
  if [ -n "${DECNET_BIN_DIR:-}" ]; then
    bin=$DECNET_BIN_DIR
    return 0
  fi
  ensure_apt_packages
  local config=${DECNET_LOAD_CONFIG:-release}
  local scratch=()
  [ -n "${DECNET_SCRATCH_PATH:-}" ] && scratch=(--scratch-path "$DECNET_SCRATCH_PATH")
  log "building decnet-master and load-agents ($config)"
  swift build "${scratch[@]}" -c "$config" --product decnet-master >/dev/null
  swift build "${scratch[@]}" -c "$config" --product load-agents >/dev/null
  bin=$(swift build "${scratch[@]}" -c "$config" --show-bin-path)
}

# For the load scripts: starts `decnet-master serve` on the loopback ports port_c/port_h/port_m with the master
# directory `master_dir` and any extra arguments, sets master_pid, and waits (at most 30 s) until it answers.
start_load_master() {
  "$bin/decnet-master" serve --dir "$master_dir" --bind-host 127.0.0.1 --command-port "$port_c" \
    --heartbeat-port "$port_h" --monitor-port "$port_m" "$@" 2>>"$work/master.log" &
  master_pid=$!
  for _ in $(seq 1 300); do
    "$bin/decnet-master" agents --dir "$master_dir" --json >/dev/null 2>&1 && return 0
    kill -0 "$master_pid" 2>/dev/null || { log "the master exited"; return 1; }
    sleep 0.1
  done
  log "the master did not answer within 30 s"
  return 1
}

# For the load scripts, as their EXIT trap: stops load-agents (load_pid: one process id or several) and the master, copies the run's files to
# DECNET_LOAD_OUT when set, removes the work folder after a success (keeps it and says where after a failure), and
# exits with the script's status. $1 names the run in the failure line.
finish_load_run() {
  local status=$? pid
  for pid in $load_pid; do stop_process "$pid"; done
  stop_process "$master_pid"
  if [ -n "${DECNET_LOAD_OUT:-}" ]; then
    mkdir -p "$DECNET_LOAD_OUT"
    cp "$work"/*.json "$work"/*.log "$DECNET_LOAD_OUT"/ 2>/dev/null || true
  fi
  if [ $status -eq 0 ]; then rm -rf "$work"; else log "$1 failed (status $status); files in $work"; fi
  exit $status
}
