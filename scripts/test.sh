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

log "swift test"
swift test --skip-build

if [ -d tests/python ] && ls tests/python/test_*.py >/dev/null 2>&1; then
  log "python interop tests"
  python3 -m pytest -q tests/python
fi
