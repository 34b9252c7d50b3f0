#!/usr/bin/env bash
# Canonical hash of the 50-decky topology: our agent (release build) side by side with CPython on the same input.
#   anchor A: json.dumps(stripped, sort_keys=True, separators=(",", ":")) + sha256 (input already stripped)
#   anchor B: DECNET's whole canonical_hash: strip volatile keys in Python, then A
# Ours includes the stripping. Usage: scripts/bench-hash.sh [ROUNDS] [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-15}; iterations=${2:-200}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

python3 - "$tmp/topology.json" <<'PY'
import json, sys
cases = json.load(open("Tests/Fixtures/hash.json"))
case = next(c for c in cases if c["name"] == "real_50_deckies")
open(sys.argv[1], "w").write(json.dumps(case["input"], ensure_ascii=False, separators=(",", ":")))
PY

swift build -c release --product decnet-bench >/dev/null
swift_json=$(.build/release/decnet-bench hash "$tmp/topology.json" "$rounds" "$iterations")

python_json=$(python3 - "$tmp/topology.json" "$rounds" "$iterations" <<'PY'
import hashlib, json, sys, time, platform
path, rounds, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
V = {"created_at", "status_changed_at", "updated_at", "last_seen", "status", "version", "last_error", "x", "y", "w", "h"}
def strip(v):
    if isinstance(v, dict): return {k: strip(x) for k, x in v.items() if k not in V}
    if isinstance(v, list): return [strip(x) for x in v]
    return v
def dumps_sha(v): return hashlib.sha256(json.dumps(v, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
value = json.load(open(path))
stripped = strip(value)
def measure(fn):
    per = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(iterations): fn()
        per.append((time.perf_counter() - t) / iterations * 1e6)
    per.sort(); return per[len(per) // 2]
print(json.dumps({"python": platform.python_version(),
    "dumps_sha256_us": round(measure(lambda: dumps_sha(stripped)), 2),
    "canonical_hash_us": round(measure(lambda: dumps_sha(strip(value))), 2),
    "hash": dumps_sha(stripped)}))
PY
)

python3 - "$swift_json" "$python_json" <<'PY'
import json, sys
s, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert s["hash"] == p["hash"], "hash mismatch between Swift and CPython"
print(f"canonical hash, real_50_deckies ({s['bytes']} bytes of JSON), median of {s['rounds']} rounds x {s['iterations']}")
print(f"  {'decnet-agent (Swift, strip+encode+sha256)':52s} {s['median_us']:9.1f} us")
print(f"  {'CPython ' + p['python'] + ' json.dumps+sha256 (pre-stripped)':52s} {p['dumps_sha256_us']:9.1f} us   ratio {p['dumps_sha256_us']/s['median_us']:.2f}x")
print(f"  {'CPython ' + p['python'] + ' canonical_hash (strip+dumps+sha256)':52s} {p['canonical_hash_us']:9.1f} us   ratio {p['canonical_hash_us']/s['median_us']:.2f}x")
print(f"  hashes agree: {s['hash']}")
PY
