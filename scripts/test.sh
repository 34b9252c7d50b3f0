#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what it needs, starts dockerd, builds local test images,
# then runs the Swift tests and the Python interop tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_apt_packages
ensure_python_packages
ensure_python_client
ensure_docker

# swift-nio's formatting rules (.swift-format); `swift format -i -r Sources Tests Package.swift` fixes most findings.
log "swift format lint"
swift format lint --strict -r Sources Tests Package.swift

log "building (debug) with tests"
swift build --build-tests

# Serially: many suites drive real processes (dockerd, agents, masters) with bounded waits, and on 2 cores Swift's
# cooperative pool has only 2 threads, so suites running side by side starve each other's timers.
# Each phase has a time bound far above its usual length, so that a hang fails with the name of what hung instead of
# running into CI's own limit. The test targets that need the real dockerd or root are named *IntegrationTests
# (docs/architecture.md#module-graph) and run as a phase of their own, after the rest.
logs=.build/test-logs
mkdir -p "$logs"
log "swift test: unit tests"
bounded_phase 1500 "$logs/swift-test.log" swift test --skip-build --no-parallel --skip 'IntegrationTests\.'
log "swift test: integration tests (dockerd, root)"
bounded_phase 2400 "$logs/swift-integration-test.log" \
  swift test --skip-build --no-parallel --filter 'IntegrationTests\.'
# The load run is a measurement with thresholds, so it runs as a script, not inside `swift test`
# (docs/reliability.md#load): 200 simulated agents for 20 s, then a master kill -9 and restart.
log "load test"
DECNET_BIN_DIR=$(swift build --show-bin-path) bounded_phase 900 "$logs/load-test.log" bash scripts/load-test.sh 200 20
# Reconcile under load (docs/performance.md#reconcile): 200 simulated agents in sync for 30 s start no push, nor does
# a master kill -9 and restart. The five-minute run is `scripts/reconcile-load.sh 200 300`.
log "reconcile load test"
DECNET_BIN_DIR=$(swift build --show-bin-path) bounded_phase 600 "$logs/reconcile-load.log" \
  bash scripts/reconcile-load.sh 200 30 15
# A bounded libFuzzer run over decoder, JSON, hash, validator, composer (docs/reliability.md).
bounded_phase 1500 "$logs/fuzz.log" bash scripts/fuzz.sh --ci

# The Debian packages, built from a static release build and installed on a debootstrapped Debian 12 in Docker, then
# run under a real systemd (docs/install.md).
log "package test"
bounded_phase 2400 "$logs/packages.log" bash scripts/test-packages.sh

if [ -d interop ] && ls interop/test_*.py >/dev/null 2>&1; then
  log "python interop tests"
  # Every test has its own bound too (pytest-timeout): a hung one fails with its stack, the others still run.
  bounded_phase 1800 "$logs/pytest.log" python3 -m pytest -q -o timeout=300 interop
fi
