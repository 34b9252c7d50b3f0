#!/usr/bin/env bash
# Proves the Debian packages on a clean Debian 12: builds them (scripts/package.sh, incremental), checks both systemd
# units with systemd-analyze verify against the unpacked packages, then, in containers of a minimal Debian 12 root file
# system (debootstrap --variant=minbase, imported with docker import), installs each .deb with apt-get resolving only
# its declared dependencies from Debian's mirror, and runs the binaries: --version, validate, keygen, the maintainer
# scripts' whole life (install, reinstall, remove, purge), the folders they make (owner, mode) and the installed units'
# write access (ReadWritePaths), and an agent enrolled with a master, both from the packages;
# last, both packages under a real systemd (PID 1 of a container): Type=notify, STATUS=, the sandboxed agent applying
# the example topology on this host's Docker Engine, journal priorities, and the watchdog restarting a frozen agent.
#
# DECNET_PKGTEST_SYSTEMD=0 skips the systemd stage.
#
#   scripts/test-packages.sh              everything
#   scripts/test-packages.sh --no-build   use the .debs already in dist/
#
# The root file system is cached in .build-pkg/ (and the image in Docker), so a second run skips debootstrap.
# Needs root (debootstrap), a Docker Engine (started by scripts/docker-test-env.sh when none answers) and a route from
# the default bridge to Debian's mirror; without that route, the dependencies are fetched on the host with
# apt-get download and installed offline. Exit 0 when everything held; the last line says how many checks passed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

started=$(date +%s)
build=1
[ "${1:-}" = "--no-build" ] && build=0

SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=.build-pkg
TARBALL=$CACHE/$SUITE-minbase.tar
IMAGE_REVISION=1  # bump when the root file system recipe changes
IMAGE=decnet-pkgtest/$SUITE-minbase:r$IMAGE_REVISION

passed=0
failed=0
check() {  # check DESCRIPTION command...
  local what="$1"
  shift
  if "$@"; then
    passed=$((passed + 1))
    printf '  ok    %s\n' "$what"
  else
    failed=$((failed + 1))
    printf '  FAIL  %s\n' "$what"
  fi
}

# Tools on the host.
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
docker info >/dev/null 2>&1 || ensure_docker

# 1. The packages.
if [ "$build" = 1 ]; then
  bash scripts/package.sh
fi
version=$(ls dist/decnet-agent_*.deb 2>/dev/null | sed -n 's|dist/decnet-agent_\(.*\)_[^_]*\.deb|\1|p' | sort -V | tail -1)
[ -n "$version" ] || { echo "no dist/decnet-agent_*.deb: run scripts/package.sh" >&2; exit 1; }
arch=$(dpkg --print-architecture)
AGENT_DEB=decnet-agent_${version}_$arch.deb
MASTER_DEB=decnet-master_${version}_$arch.deb
for deb in "$AGENT_DEB" "$MASTER_DEB"; do [ -f "dist/$deb" ] || { echo "dist/$deb is missing" >&2; exit 1; }; done
log "testing $AGENT_DEB and $MASTER_DEB"

work=$(mktemp -d /tmp/decnet-pkgtest.XXXXXX)
trap 'rm -rf "$work"' EXIT

# 2. The units, as installed: each package unpacked over a copy of this host's own units (sysinit.target and the
# rest that every service depends on), so systemd-analyze verify resolves ExecStart= to the packaged binary. Any
# output (a setting it cannot parse is only a warning) fails the check.
log "systemd-analyze verify"
verify_unit() {
  local root="$1" unit="$2" output
  output=$(systemd-analyze verify --root="$root" "$root/lib/systemd/system/$unit" 2>&1) || { echo "$output"; return 1; }
  [ -z "$output" ] || { echo "$output"; return 1; }
}
for name in decnet-agent decnet-master; do
  root="$work/root-$name"
  dpkg-deb -x "dist/${name}_${version}_$arch.deb" "$root"
  cp -an /lib/systemd/system/. "$root/lib/systemd/system/"
  check "$name.service passes systemd-analyze verify" verify_unit "$root" "$name.service"
  if exposure=$(systemd-analyze security --offline=true --root="$root" "/lib/systemd/system/$name.service" 2>/dev/null \
    | sed -n 's/^→ Overall exposure level for .*: //p'); then
    log "$name.service: systemd-analyze security exposure $exposure"
  fi
  check "$name: its one conffile is /etc/decnet/${name#decnet-}.json" \
    test "$(dpkg-deb -I "dist/${name}_${version}_$arch.deb" conffiles)" = "/etc/decnet/${name#decnet-}.json"
  check "$name links no Swift runtime" \
    sh -c "! ldd '$root/usr/bin/$name' | grep -Eq 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|libicu'"
done

# 3. A minimal Debian 12, cached.
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  if [ ! -s "$TARBALL" ]; then
    log "debootstrap --variant=minbase $SUITE (cached in $TARBALL)"
    mkdir -p "$CACHE"
    rootfs="$work/rootfs"
    debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
      || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
    # No package lists and no downloaded .debs in the image: each test starts as a fresh install does.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" --numeric-owner -cf "$TARBALL.tmp" .
    mv "$TARBALL.tmp" "$TARBALL"
  fi
  log "docker import $TARBALL as $IMAGE"
  docker import "$TARBALL" "$IMAGE" >/dev/null
fi

# Does the default bridge reach the mirror? If not, fetch the dependency closure on the host and install offline.
offline=0
mirror_host=${MIRROR#*://}
mirror_host=${mirror_host%%/*}
if ! docker run --rm "$IMAGE" timeout 10 bash -c "exec 3<>/dev/tcp/$mirror_host/80" 2>/dev/null; then
  offline=1
fi
if [ "$offline" = 1 ]; then
  log "the containers cannot reach $MIRROR: installing the dependencies from .debs fetched on the host"
  mkdir -p "$work/debs"
  deps=$(for deb in "$AGENT_DEB" "$MASTER_DEB"; do dpkg-deb -f "dist/$deb" Depends; done \
    | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' | sort -u)
  # shellcheck disable=SC2086
  closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances --no-pre-depends $deps | grep -v '^ ' | grep -v '^<' | sort -u)
  # shellcheck disable=SC2086
  (cd "$work/debs" && apt-get download $closure >/dev/null)
fi

# run_in_container NAME SCRIPT: a fresh container of the minimal image with dist/ and examples/ mounted; the script
# gets install_deb FILE, which installs one .deb with apt-get and only its Depends (Recommends are not installed).
run_in_container() {
  local name="$1" script="$2"
  local prelude='set -eu
export DEBIAN_FRONTEND=noninteractive
install_deb() {
  if [ "'"$offline"'" = 1 ]; then
    apt-get install -y -qq --no-install-recommends /debs/*.deb "$@" >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
  else
    [ -e /var/lib/apt/lists/lock ] || apt-get update -qq >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
    apt-get install -y -qq --no-install-recommends "$@" >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
  fi
  grep -E "^decnet-(agent|master):" /tmp/apt.log || true
}
read_write_paths() {  # read_write_paths UNIT: its ReadWritePaths= entries, one a line, without the "-" prefix
  sed -n "s/^ReadWritePaths=//p" "$1" | tr " " "\n" | sed "s/^-//" | grep .
}
'
  local mounts=(-v "$PWD/dist:/dist:ro" -v "$PWD/examples:/examples:ro")
  [ "$offline" = 1 ] && mounts+=(-v "$work/debs:/debs:ro")
  docker run --rm --name "decnet-pkgtest-$name-$$" "${mounts[@]}" "$IMAGE" bash -c "$prelude$script" \
    >"$work/$name.log" 2>&1
}

# Each container prints "CHECK <description>" before a check and "PASS" after it; the host counts them.
count_container_checks() {
  local name="$1" status="$2"
  local description=""
  while IFS= read -r line; do
    case "$line" in
      "CHECK "*) description=${line#CHECK } ;;
      PASS) check "$name: $description" true; description="" ;;
    esac
  done <"$work/$name.log"
  if [ "$status" != 0 ] || [ -n "$description" ]; then
    check "$name: ${description:-the container script} (exit $status)" false
    sed 's/^/      /' "$work/$name.log" | tail -40
  fi
}

# 4. The agent package alone.
log "decnet-agent in a clean $SUITE container"
status=0
run_in_container agent '
echo "CHECK apt-get installs it with its Depends only"
install_deb /dist/'"$AGENT_DEB"'
echo PASS
echo "CHECK every shared library it needs is there (Depends are enough)"
if ldd /usr/bin/decnet-agent | grep "not found"; then exit 1; fi
echo PASS
echo "CHECK no Swift toolchain on the host"
if ls -d /usr/lib/swift /usr/lib/*/libswiftCore.so* 2>/dev/null | grep .; then exit 1; fi
echo PASS
echo "CHECK decnet-agent --version prints '"$version"'"
test "$(decnet-agent --version)" = "'"$version"'"
echo PASS
echo "CHECK decnet-agent validate examples/topology.json"
decnet-agent validate /examples/topology.json | grep -q "\"has_errors\": false"
echo PASS
echo "CHECK decnet-agent hash examples/topology.json"
decnet-agent hash /examples/topology.json | grep -Eq "^[0-9a-f]{64}$"
echo PASS
echo "CHECK postinst made the key pair: folder 0700, secret 0600, all owned by root"
test "$(stat -c "%U:%G %a" /etc/decnet/agent)" = "root:root 700"
test "$(stat -c "%U %a" /etc/decnet/agent/agent.key_secret)" = "root 600"
test "$(stat -c "%U:%G %a" /var/lib/decnet-agent)" = "root:root 700"
echo PASS
echo "CHECK the installed unit may write the state folder and the key folder (a key rotation writes keys there)"
unit=/lib/systemd/system/decnet-agent.service
read_write_paths "$unit" | grep -qx /var/lib/decnet-agent
read_write_paths "$unit" | grep -qx /etc/decnet/agent
grep -qx "StateDirectory=decnet-agent" "$unit"
echo PASS
echo "CHECK the shipped config is refused until filled in, saying what is missing"
rc=0
out=$(decnet-agent run --config /etc/decnet/agent.json --check-config 2>&1) || rc=$?
test "$rc" = 2
echo "$out" | grep -q "missing --agent-id"
echo PASS
echo "CHECK a reinstall keeps the key pair (postinst never replaces one)"
before=$(sha256sum /etc/decnet/agent/agent.key_secret)
apt-get install -y -qq --reinstall /dist/'"$AGENT_DEB"' >/dev/null 2>&1
test "$(sha256sum /etc/decnet/agent/agent.key_secret)" = "$before"
echo PASS
echo "CHECK remove keeps the keys, the state folder and the conffile"
apt-get remove -y -qq decnet-agent >/dev/null 2>&1
test ! -e /usr/bin/decnet-agent
test -f /etc/decnet/agent/agent.key_secret
test -d /var/lib/decnet-agent
test -f /etc/decnet/agent.json
echo PASS
echo "CHECK purge removes the keys, the state folder and the conffile"
apt-get purge -y -qq decnet-agent >/dev/null 2>&1
test ! -e /etc/decnet/agent
test ! -e /var/lib/decnet-agent
test ! -e /etc/decnet/agent.json
echo PASS
' || status=$?
count_container_checks agent "$status"

# 5. The master package alone.
log "decnet-master in a clean $SUITE container"
status=0
run_in_container master '
echo "CHECK apt-get installs it with its Depends only"
install_deb /dist/'"$MASTER_DEB"'
echo PASS
echo "CHECK every shared library it needs is there (Depends are enough)"
if ldd /usr/bin/decnet-master | grep "not found"; then exit 1; fi
echo PASS
echo "CHECK decnet-master --version prints '"$version"'"
test "$(decnet-master --version)" = "'"$version"'"
echo PASS
echo "CHECK decnet-master keygen"
decnet-master keygen --dir /tmp/keys --name host-17 --role agent | grep -Eq "^.{40}$"
test "$(stat -c %a /tmp/keys/host-17.key_secret)" = 600
echo PASS
echo "CHECK postinst made the decnet system user and its folders"
getent passwd decnet | grep -q ":/var/lib/decnet-master:/usr/sbin/nologin$"
test "$(stat -c "%U %a" /etc/decnet/master)" = "decnet 700"
test "$(stat -c "%U %a" /etc/decnet/master/agents)" = "decnet 700"
test "$(stat -c "%U %a" /etc/decnet/master/rejected)" = "decnet 700"
test "$(stat -c "%U:%G %a" /etc/decnet/master/tokens)" = "decnet:decnet 700"
test "$(stat -c "%U:%G %a" /etc/decnet/master/agents)" = "decnet:decnet 700"
test "$(stat -c "%U:%G %a" /var/lib/decnet-master)" = "decnet:decnet 750"
echo PASS
echo "CHECK the installed unit may write its state folder, agents/ and tokens/ (token enrolment writes both)"
unit=/lib/systemd/system/decnet-master.service
read_write_paths "$unit" | grep -qx /var/lib/decnet-master
read_write_paths "$unit" | grep -qx /etc/decnet/master/agents
read_write_paths "$unit" | grep -qx /etc/decnet/master/tokens
if read_write_paths "$unit" | grep -qx /etc/decnet/master; then exit 1; fi
echo PASS
echo "CHECK postinst made the master key pair, owned by decnet, secret 0600"
test "$(stat -c "%U %a" /etc/decnet/master/master.key_secret)" = "decnet 600"
echo PASS
echo "CHECK the master serves from the shipped config as decnet, and answers operators through /var/lib/decnet-master"
setpriv --reuid=decnet --regid=decnet --init-groups decnet-master serve --config /etc/decnet/master.json 2>/tmp/master.log &
master=$!
for i in $(seq 100); do [ -S /var/lib/decnet-master/control.ipc ] && break; sleep 0.1; done
decnet-master agents --run-dir /var/lib/decnet-master --json | grep -q "\"agents\": \[\]"
kill -TERM "$master"
wait "$master"
grep -q "master stopped" /tmp/master.log
echo PASS
echo "CHECK a reinstall keeps the key pair and the user"
before=$(sha256sum /etc/decnet/master/master.key_secret)
apt-get install -y -qq --reinstall /dist/'"$MASTER_DEB"' >/dev/null 2>&1
test "$(sha256sum /etc/decnet/master/master.key_secret)" = "$before"
echo PASS
echo "CHECK purge removes keys and state, keeps the user"
apt-get purge -y -qq decnet-master >/dev/null 2>&1
test ! -e /etc/decnet/master
test ! -e /var/lib/decnet-master
test ! -e /etc/decnet/master.json
getent passwd decnet >/dev/null
echo PASS
' || status=$?
count_container_checks master "$status"

# 6. Both, enrolled: the agent from its package dials the master from its package.
log "an agent enrolled with a master, both from the packages"
status=0
run_in_container enrol '
echo "CHECK both packages install side by side"
install_deb /dist/'"$AGENT_DEB"' /dist/'"$MASTER_DEB"'
echo PASS
echo "CHECK enrolment: the agent key into agents/, the master key to the agent, agent.json filled in"
install -m 0644 -o decnet -g decnet /etc/decnet/agent/agent.key /etc/decnet/master/agents/pkg-host.key
install -m 0644 /etc/decnet/master/master.key /etc/decnet/agent/master.key
sed -i "s|\"agent_id\": \"\"|\"agent_id\": \"pkg-host\"|; s|\"master_endpoint\": \"\"|\"master_endpoint\": \"tcp://127.0.0.1:8771\"|; s|\"heartbeat_endpoint\": \"\"|\"heartbeat_endpoint\": \"tcp://127.0.0.1:8772\"|" /etc/decnet/agent.json
decnet-agent run --config /etc/decnet/agent.json --check-config >/dev/null
echo PASS
echo "CHECK the master shows the agent connected"
setpriv --reuid=decnet --regid=decnet --init-groups decnet-master serve --config /etc/decnet/master.json 2>/tmp/master.log &
master=$!
decnet-agent run --config /etc/decnet/agent.json 2>/tmp/agent.log &
agent=$!
for i in $(seq 150); do
  decnet-master agents --run-dir /var/lib/decnet-master --json 2>/dev/null | grep -q "\"connected\": true" && break
  sleep 0.2
done
decnet-master agents --run-dir /var/lib/decnet-master --json | grep -q "\"connected\": true" \
  || { cat /tmp/master.log /tmp/agent.log; exit 1; }
echo PASS
echo "CHECK both stop cleanly on SIGTERM"
kill -TERM "$agent"
wait "$agent"
grep -q "agent stopped" /tmp/agent.log
kill -TERM "$master"
wait "$master"
grep -q "master stopped" /tmp/master.log
echo PASS
' || status=$?
count_container_checks enrol "$status"

# 7. Under a real systemd: a container booting systemd as PID 1 (an image of the minimal root file system plus
# systemd, cached in Docker), with the host's Docker socket mounted so the sandboxed agent drives the real Engine.
# The units' sandboxing, Type=notify, STATUS=, the watchdog and the journal are what is checked here. Skipped, with a
# line saying so, when this Docker Engine cannot boot systemd in a container.
SYSTEMD_IMAGE=decnet-pkgtest/$SUITE-systemd:r$IMAGE_REVISION
if [ "${DECNET_PKGTEST_SYSTEMD:-1}" = 1 ]; then
  if ! docker image inspect "$SYSTEMD_IMAGE" >/dev/null 2>&1; then
    log "building $SYSTEMD_IMAGE (the minimal root file system plus systemd)"
    builder="decnet-pkgtest-systemd-build-$$"
    docker run --name "$builder" "$IMAGE" bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends systemd systemd-sysv >/dev/null && rm -rf /var/lib/apt/lists/*' \
      >"$work/systemd-image.log" 2>&1 || { docker rm -f "$builder" >/dev/null; cat "$work/systemd-image.log" >&2; exit 1; }
    docker commit "$builder" "$SYSTEMD_IMAGE" >/dev/null
    docker rm "$builder" >/dev/null
  fi
  # The offline test images (a busybox base and stand-in service templates) for the apply below.
  docker image inspect decnet-test/busybox:latest >/dev/null 2>&1 || ensure_docker
  box="decnet-pkgtest-systemd-$$"
  systemd_booted() {  # up to 60 s for PID 1 to finish booting (running, or degraded when some unit failed)
    local state
    for _ in $(seq 120); do
      state=$(docker exec "$1" systemctl is-system-running 2>/dev/null) || true
      case "$state" in running | degraded) return 0 ;; esac
      docker ps -q --filter "name=^$1\$" | grep -q . || break
      sleep 0.5
    done
    echo "systemd state: ${state:-none}" >>"$work/systemd-run.log"
    return 1
  }
  if docker run -d --name "$box" --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
    --security-opt apparmor=unconfined -e container=docker --tmpfs /run --tmpfs /run/lock \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --cgroupns=host -v /var/run/docker.sock:/var/run/docker.sock \
    -v "$PWD/dist:/dist:ro" -v "$PWD/examples:/examples:ro" "$SYSTEMD_IMAGE" /lib/systemd/systemd \
    >"$work/systemd-run.log" 2>&1 && systemd_booted "$box"; then
    log "both packages under systemd (PID 1 in a container, the host's Docker Engine)"
    status=0
    docker exec "$box" bash -c 'set -eu
export DEBIAN_FRONTEND=noninteractive
TOPOLOGY=7d3f0c2a-5b1e-4c8d-9a6f-2e4b8c1d0f3a
status_of() { systemctl show -p StatusText --value "$1"; }
wait_for() {  # wait_for SECONDS command...: polls every 0.2 s
  local n=$(($1 * 5)); shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.2; done
  "$@"
}
echo "CHECK apt-get installs both; the master postinst starts its service, which says READY with a status"
apt-get update -qq >/tmp/apt.log 2>&1
apt-get install -y -qq --no-install-recommends /dist/'"$MASTER_DEB"' /dist/'"$AGENT_DEB"' >/tmp/apt.log 2>&1 \
  || { cat /tmp/apt.log; exit 1; }
systemctl is-active --quiet decnet-master
test "$(status_of decnet-master)" = "serving: 0 of 0 agents connected, 0 requests outstanding"
echo PASS
echo "CHECK systemd reads the write access the units ask for (state folders, agents/ and tokens/, the agent key folder)"
rw() { systemctl show -p ReadWritePaths --value "$1" | tr " " "\n" | sed "s/^-//"; }
rw decnet-master | grep -qx /var/lib/decnet-master
rw decnet-master | grep -qx /etc/decnet/master/agents
rw decnet-master | grep -qx /etc/decnet/master/tokens
rw decnet-agent | grep -qx /var/lib/decnet-agent
rw decnet-agent | grep -qx /etc/decnet/agent
echo PASS
echo "CHECK the agent postinst enables but does not start an unconfigured agent, and says what to fill in"
systemctl is-enabled --quiet decnet-agent
if systemctl is-active --quiet decnet-agent; then exit 1; fi
grep -q "decnet-agent: not started: set agent_id" /tmp/apt.log
echo PASS
echo "CHECK enrolled and configured, the agent starts as a notify service: connected, Docker observed"
install -m 0644 -o decnet -g decnet /etc/decnet/agent/agent.key /etc/decnet/master/agents/pkg-host.key
install -m 0644 /etc/decnet/master/master.key /etc/decnet/agent/master.key
sed -i "s|\"agent_id\": \"\"|\"agent_id\": \"pkg-host\"|; s|\"master_endpoint\": \"\"|\"master_endpoint\": \"tcp://127.0.0.1:8771\"|; s|\"heartbeat_endpoint\": \"\"|\"heartbeat_endpoint\": \"tcp://127.0.0.1:8772\"|; s|\"templates_dir\": \"[^\"]*\"|\"templates_dir\": \"/examples/templates\", \"base_image\": \"decnet-test/busybox:latest\"|" /etc/decnet/agent.json
systemctl restart decnet-agent
systemctl is-active --quiet decnet-agent
wait_for 20 sh -c "systemctl show -p StatusText --value decnet-agent | grep -q \"^connected to tcp://127.0.0.1:8771; no topology applied\$\"" \
  || { status_of decnet-agent; journalctl -u decnet-agent --no-pager | tail; exit 1; }
wait_for 20 sh -c "systemctl show -p StatusText --value decnet-master | grep -q \"^serving: 1 of 1 agent connected\""
echo PASS
echo "CHECK the sandboxed agent applies the example topology on the real Engine, and its status shows it"
decnet-master apply --run-dir /var/lib/decnet-master --agent pkg-host --timeout 300 /examples/topology.json >/tmp/apply.json 2>/tmp/apply.log \
  || { cat /tmp/apply.json /tmp/apply.log; journalctl -u decnet-agent --no-pager | tail -20; exit 1; }
wait_for 20 sh -c "systemctl show -p StatusText --value decnet-agent | grep -q \"topology $TOPOLOGY applied\""
echo PASS
echo "CHECK teardown through the master"
decnet-master teardown --run-dir /var/lib/decnet-master --agent pkg-host --timeout 300 "$TOPOLOGY" >/tmp/teardown.json 2>&1 \
  || { cat /tmp/teardown.json; exit 1; }
wait_for 20 sh -c "systemctl show -p StatusText --value decnet-agent | grep -q \"no topology applied\""
echo PASS
echo "CHECK an upgrade (here a reinstall) restarts both running services"
agent_pid=$(systemctl show -p MainPID --value decnet-agent)
master_pid=$(systemctl show -p MainPID --value decnet-master)
apt-get install -y -qq --reinstall /dist/'"$MASTER_DEB"' /dist/'"$AGENT_DEB"' >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
systemctl is-active --quiet decnet-agent
systemctl is-active --quiet decnet-master
test "$(systemctl show -p MainPID --value decnet-agent)" != "$agent_pid"
test "$(systemctl show -p MainPID --value decnet-master)" != "$master_pid"
wait_for 20 sh -c "systemctl show -p StatusText --value decnet-agent | grep -q \"^connected to \""
echo PASS
echo "CHECK journal lines carry their priority and no timestamp of their own"
journalctl -u decnet-agent -o cat --no-pager | grep -q "^info decnet.agent: agent started agent_id=pkg-host"
if journalctl -u decnet-agent -p warning -o cat --no-pager | grep "agent started"; then exit 1; fi
journalctl -u decnet-agent -o verbose --no-pager | grep -B30 "MESSAGE=info decnet.agent: agent started" | grep -q "PRIORITY=6"
echo PASS
echo "CHECK the watchdog: a frozen agent is killed and restarted (WatchdogSec=3s for this check)"
mkdir -p /etc/systemd/system/decnet-agent.service.d
printf "[Service]\nWatchdogSec=3s\n" >/etc/systemd/system/decnet-agent.service.d/watchdog.conf
systemctl daemon-reload
systemctl restart decnet-agent
sleep 4
test "$(systemctl show -p NRestarts --value decnet-agent)" = 0
kill -STOP "$(systemctl show -p MainPID --value decnet-agent)"
wait_for 15 sh -c "test \"\$(systemctl show -p NRestarts --value decnet-agent)\" = 1"
journalctl -u decnet-agent --no-pager | grep -q "Watchdog timeout"
wait_for 20 systemctl is-active --quiet decnet-agent
rm -r /etc/systemd/system/decnet-agent.service.d
systemctl daemon-reload
echo PASS
echo "CHECK a stop ends cleanly; purge stops the master and removes its keys"
systemctl stop decnet-agent
journalctl -u decnet-agent -o cat --no-pager | tail -5 | grep -q "agent stopped"
apt-get purge -y -qq decnet-master >/dev/null 2>&1
if systemctl is-active --quiet decnet-master; then exit 1; fi
test ! -e /etc/decnet/master
echo PASS
' >"$work/systemd.log" 2>&1 || status=$?
    count_container_checks systemd "$status"
  else
    log "SKIPPED the systemd stage: this Docker Engine cannot boot systemd in a container ($(tail -1 "$work/systemd-run.log"))"
  fi
  docker rm -f "$box" >/dev/null 2>&1 || true
  # If the stage stopped between apply and teardown, what the agent made on this host's Engine goes here.
  label=decnet.topology.id=7d3f0c2a-5b1e-4c8d-9a6f-2e4b8c1d0f3a
  leftovers=$(docker ps -aq --filter "label=$label")
  [ -z "$leftovers" ] || docker rm -f $leftovers >/dev/null 2>&1 || true
  leftovers=$(docker network ls -q --filter "label=$label")
  [ -z "$leftovers" ] || docker network rm $leftovers >/dev/null 2>&1 || true
fi

elapsed=$(($(date +%s) - started))
echo "package test: $passed passed, $failed failed ($elapsed s)"
[ "$failed" = 0 ]
