#!/usr/bin/env python3
"""Writes the fuzz-agent seed corpus (Fuzz/corpus/) from the golden vectors in Tests/Fixtures.

Seeds are what the agent really receives: apply envelopes around the validator and hash vectors' topologies (with
their canonical hash, so the fuzzer starts on the deep path), the non-standard JSON texts (NaN, Infinity, lone
surrogates), the other request types, and a few malformed frames. Files are named after the vector they come from,
at most MAX_BYTES each and about 100 in all, so the committed corpus stays small. Re-running rewrites the folder.
"""
import hashlib
import json
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")
OUT = os.path.join(ROOT, "Fuzz", "corpus")
MAX_BYTES = 64 * 1024
VOLATILE = {"created_at", "status_changed_at", "updated_at", "last_seen", "status", "version", "last_error",
            "x", "y", "w", "h"}


# Hash vectors left out: big generated topologies (the validator's vectors have them) and one-value documents.
TRIVIAL_OR_BIG = ("real_", "head_shape", "decnet_test_sample_", "float_pos_zero", "float_neg_zero", "float_one",
                  "bool_true_only", "nulls", "string_empty", "ints_small")


def load(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return json.load(f)


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def version_hash(hydrated):
    text = json.dumps(strip(hydrated), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def apply_envelope(request_id, hydrated):
    return compact({"proto": 1, "type": "apply", "id": request_id, "hydrated": hydrated,
                    "version_hash": version_hash(hydrated)})


def seeds():
    for case in load("validate.json"):
        yield "validate-" + case["name"], apply_envelope("v-" + case["name"][:100], case["input"])
    for case in load("hash.json"):
        # Raw JSON edge cases; the big generated topologies are already among the validator's vectors.
        if case["name"].startswith(TRIVIAL_OR_BIG):
            continue
        yield "hash-" + case["name"], compact(case["input"])
    for case in load("hash_nonstandard.json"):
        yield "nonstandard-" + case["name"], case["input_text"].encode("utf-8")
    for name, payload in load("agent_scenarios.json")["payloads"].items():
        yield "scenario-" + name, apply_envelope("s-" + name, payload)
    yield "request-state", b'{"proto":1,"type":"state","id":"s1"}'
    yield "request-ping", b'{"proto":1,"type":"ping","id":"p1"}'
    yield "request-teardown", b'{"proto":1,"type":"teardown","id":"t1","topology_id":"5d81934e-4a18-580f-bd50-6df4ca24a41a"}'
    yield "request-apply-supersede", b'{"proto":1,"type":"apply","id":"a1","hydrated":{},"version_hash":"00","supersede":true}'
    yield "malformed-trailing", b'{"proto":1,"type":"ping","id":"p1"} x'
    yield "malformed-bom", b'\xef\xbb\xbf{"proto":1,"type":"ping","id":"p1"}'
    yield "malformed-deep", b'{"proto":1,"type":"ping","id":"p1","x":' + b"[" * 511 + b"]" * 511 + b"}"
    yield "malformed-surrogate", b'{"proto":1,"type":"ping","id":"\\ud800"}'
    yield "malformed-bigint", b'{"proto":1' + b"0" * 4400 + b',"type":"ping","id":"p1"}'


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    written, total, skipped, seen = 0, 0, [], set()
    for name, data in seeds():
        if len(data) > MAX_BYTES:
            skipped.append(name)
            continue
        if data in seen:
            continue
        seen.add(data)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:120]
        with open(os.path.join(OUT, safe), "wb") as f:
            f.write(data)
        written += 1
        total += len(data)
    print(f"fuzz-corpus: {written} seeds, {total} bytes in {os.path.relpath(OUT, ROOT)}"
          f" ({len(skipped)} over {MAX_BYTES} bytes left out)", file=sys.stderr)


if __name__ == "__main__":
    main()
