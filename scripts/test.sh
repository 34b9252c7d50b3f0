#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what it needs, starts dockerd, builds local test images,
# then runs the Swift tests and the Python interop tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_apt_packages
ensure_python_packages
ensure_docker

log "building (debug) with tests"
swift build --build-tests

# Serially: many suites drive real processes (dockerd, agents, masters) with bounded waits, and on 2 cores Swift's
# cooperative pool has only 2 threads, so suites running side by side starve each other's timers.
log "swift test"
swift test --skip-build --no-parallel
bash scripts/fuzz.sh --ci  # bounded libFuzzer run over decoder, JSON, hash, validator, composer (docs/reliability.md)

if [ -d tests/python ] && ls tests/python/test_*.py >/dev/null 2>&1; then
  log "python interop tests"
  python3 -m pytest -q tests/python
fi
