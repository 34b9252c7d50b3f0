#!/usr/bin/env python3
"""Prints the wire benchmark's results (JSON from wire_bench.py) side by side, and with --doc FILE writes them into
the generated blocks of the `## Wire (state round trips)` and `## Memory` sections of docs/performance.md.

Only the text between `<!-- bench-wire:NAME:begin -->` and `<!-- bench-wire:NAME:end -->` is replaced, so the prose
around it stays; a missing section is appended with a short introduction.

usage: wire_report.py RESULTS_JSON [--doc docs/performance.md]
"""
import json
import statistics
import sys

SEED_STATE_RPS = 56  # the seed agent's state requests per second, stated in the issue (not measured here)
SEED_RSS_MIB = 75  # the seed agent's resident memory, stated in the issue (not measured here)
GOAL_FLOOR_RATIO, GOAL_SEED_RATIO, GOAL_IDLE_MIB = 2.0, 100.0, 15.0

TARGETS = [("ours", "decnet-agent run (release), pyzmq ROUTER master"),
           ("ours-ping", "  the same agent answering ping (transport only)"),
           ("floor", "(a) floor: pyzmq DEALER echo over CURVE"),
           ("https", "(b) uvicorn + FastAPI, HTTPS + client certs")]

WIRE_INTRO = """`scripts/bench-wire.sh [REQUESTS] [ROUNDS]` (default 2,000 requests, 5 rounds): `state` round trips on
loopback, sequential and with 16 in flight. One Python client measures every server: the master side is a pyzmq
ROUTER (CURVE server, ZAP through pyzmq's ThreadAuthenticator, `interop/wire_master.py`) for ours and the floor,
and keep-alive `http.client` connections presenting a client certificate (one per worker thread) for HTTPS. Rounds
are interleaved (ours, ours with `ping`, floor, HTTPS, again); the table shows the median over rounds of each
round's p50, p99 and req/s, and the CPU time per request of the server process (all its threads, from
`/proc/PID/task/*/schedstat`) and of the client. The agent answers `state` from its event-fed observation of Docker
and its SQLite cache, never asking Docker on the request path; the floor and HTTPS answer the agent's own state body
(taken after the 20-decky apply, so it lists 60 containers), pre-encoded.
"""

MEMORY_INTRO = """Measured by the same run of `scripts/bench-wire.sh`: the agent's VmRSS and VmHWM
(`/proc/PID/status`), release build, 3 s after it connected, and 3 s after it applied a generated topology of 20
deckies (20 base containers + 40 services, ssh + http from `examples/templates`, images already built).
"""


def med(runs, key):
    return statistics.median(r[key] for r in runs)


def row(runs):
    return {k: med(runs, k) for k in ("p50_us", "p99_us", "rps", "client_cpu_us", "server_cpu_us")}


def tables(results):
    runs = results["runs"]
    rows = {f"{t}/{m}": row(runs[f"{t}/{m}"]) for t, _ in TARGETS for m in ("sequential", "inflight")}
    return rows


def ratios(rows):
    ours_s, floor_s = rows["ours/sequential"], rows["floor/sequential"]
    ours_i, floor_i = rows["ours/inflight"], rows["floor/inflight"]
    return {"p50_vs_floor_seq": ours_s["p50_us"] / floor_s["p50_us"],
            "rps_vs_floor_seq": floor_s["rps"] / ours_s["rps"],
            "rps_vs_floor_inflight": floor_i["rps"] / ours_i["rps"],
            "vs_seed_seq": ours_s["rps"] / SEED_STATE_RPS,
            "vs_seed_inflight": ours_i["rps"] / SEED_STATE_RPS,
            "vs_https_seq": ours_s["rps"] / rows["https/sequential"]["rps"],
            "vs_https_inflight": ours_i["rps"] / rows["https/inflight"]["rps"]}


def mib(kib):
    return kib / 1024


def text_report(results):
    rows, r = tables(results), ratios(tables(results))
    n, inflight = results["requests"], results["inflight"]
    out = [f"state round trips on loopback: {n} requests x {results['rounds']} rounds (median of rounds), "
           f"state body {results['body_bytes']} bytes, load average {results['machine']['loadavg_start']:.1f}"
           f" -> {results['machine']['loadavg_end']:.1f} on {results['machine']['cpus']} CPUs",
           f"  {'':48s} {'sequential':>28s}   {str(inflight) + ' in flight':>28s}",
           f"  {'':48s} {'p50 us':>8s} {'p99 us':>9s} {'req/s':>9s}   {'p50 us':>8s} {'p99 us':>9s} {'req/s':>9s}"
           f"   server/client CPU us per req (seq)"]
    for target, label in TARGETS:
        s, i = rows[f"{target}/sequential"], rows[f"{target}/inflight"]
        out.append(f"  {label:48s} {s['p50_us']:8.0f} {s['p99_us']:9.0f} {s['rps']:9.0f}   "
                   f"{i['p50_us']:8.0f} {i['p99_us']:9.0f} {i['rps']:9.0f}   "
                   f"{s['server_cpu_us']:6.0f} / {s['client_cpu_us']:.0f}")
    out.append(f"  {'seed agent (stated in the issue, not measured)':48s} {'':8s} {'':9s} {SEED_STATE_RPS:9d}")
    out.append(f"  ours vs floor, sequential: p50 {r['p50_vs_floor_seq']:.2f}x, req/s {r['rps_vs_floor_seq']:.2f}x "
               f"slower; {inflight} in flight: req/s {r['rps_vs_floor_inflight']:.2f}x slower "
               f"(goal: within {GOAL_FLOOR_RATIO:.0f}x)")
    out.append(f"  ours vs seed: {r['vs_seed_seq']:.0f}x sequential, {r['vs_seed_inflight']:.0f}x with "
               f"{inflight} in flight (goal: >= {GOAL_SEED_RATIO:.0f}x); vs HTTPS anchor: "
               f"{r['vs_https_seq']:.2f}x / {r['vs_https_inflight']:.2f}x")
    idle, applied = results["memory_idle_kib"], results["memory_applied_kib"]
    out.append(f"memory: idle VmRSS {mib(idle['VmRSS']):.1f} MiB (VmHWM {mib(idle['VmHWM']):.1f}); after the "
               f"{results['deckies']}-decky apply ({results['containers']} containers in {results['apply_s']:.1f} s) "
               f"VmRSS {mib(applied['VmRSS']):.1f} MiB (VmHWM {mib(applied['VmHWM']):.1f}); goal idle < "
               f"{GOAL_IDLE_MIB:.0f} MiB, seed {SEED_RSS_MIB} MiB (stated)")
    return "\n".join(out)


def wire_block(results):
    rows, r = tables(results), ratios(tables(results))
    m, inflight = results["machine"], results["inflight"]
    lines = [f"Run: {results['requests']} requests x {results['rounds']} rounds, state body {results['body_bytes']} "
             f"bytes, Python {m['python']}, pyzmq {m['pyzmq']} (libzmq {m['libzmq']}), {m['cpus']} CPUs, load "
             f"average {m['loadavg_start']:.1f} at the start and {m['loadavg_end']:.1f} at the end.", "",
             f"| server | seq p50 | seq p99 | seq req/s | {inflight} in flight p50 | p99 | req/s | "
             "server CPU/req (seq) | client CPU/req (seq) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for target, label in TARGETS:
        s, i = rows[f"{target}/sequential"], rows[f"{target}/inflight"]
        lines.append(f"| {label} | {s['p50_us']:.0f} µs | {s['p99_us']:.0f} µs | {s['rps']:.0f} | "
                     f"{i['p50_us']:.0f} µs | {i['p99_us']:.0f} µs | {i['rps']:.0f} | {s['server_cpu_us']:.0f} µs | "
                     f"{s['client_cpu_us']:.0f} µs |")
    lines.append(f"| seed agent (stated in the issue, not measured) | | | {SEED_STATE_RPS} | | | | | |")
    lines += ["",
              f"* Ours vs the floor: sequential p50 {r['p50_vs_floor_seq']:.2f}x, sequential req/s "
              f"{r['rps_vs_floor_seq']:.2f}x fewer, {inflight} in flight req/s {r['rps_vs_floor_inflight']:.2f}x fewer "
              f"(goal: within {GOAL_FLOOR_RATIO:.0f}x).",
              f"* Ours vs the seed's {SEED_STATE_RPS} req/s: {r['vs_seed_seq']:.0f}x sequential, "
              f"{r['vs_seed_inflight']:.0f}x with {inflight} in flight (goal: at least {GOAL_SEED_RATIO:.0f}x).",
              f"* Ours vs the HTTPS anchor: {r['vs_https_seq']:.2f}x sequential, {r['vs_https_inflight']:.2f}x with "
              f"{inflight} in flight."]
    return "\n".join(lines)


def memory_block(results):
    idle, applied, after = results["memory_idle_kib"], results["memory_applied_kib"], results["memory_after_bench_kib"]
    return "\n".join([
        "| when | VmRSS | VmHWM |", "|---|---|---|",
        f"| idle, 3 s after connecting | {mib(idle['VmRSS']):.1f} MiB | {mib(idle['VmHWM']):.1f} MiB |",
        f"| after the {results['deckies']}-decky apply ({results['containers']} containers, "
        f"{results['apply_s']:.1f} s) | {mib(applied['VmRSS']):.1f} MiB | {mib(applied['VmHWM']):.1f} MiB |",
        f"| after the round trips | {mib(after['VmRSS']):.1f} MiB | {mib(after['VmHWM']):.1f} MiB |",
        f"| seed agent (stated in the issue, not measured) | {SEED_RSS_MIB} MiB | |",
        "", f"Goal: under {GOAL_IDLE_MIB:.0f} MiB idle."])


def replace_block(document, section, name, intro, block):
    begin, end = f"<!-- bench-wire:{name}:begin -->", f"<!-- bench-wire:{name}:end -->"
    generated = f"{begin}\n{block}\n{end}"
    if begin in document and end in document:
        head, rest = document.split(begin, 1)
        return head + generated + rest.split(end, 1)[1]
    if section in document:  # the section exists without a block: put the block at its end
        head, rest = document.split(section, 1)
        at = rest.find("\n## ")
        body, tail = (rest, "") if at < 0 else (rest[:at], rest[at:])
        return head + section + body.rstrip("\n") + "\n\n" + generated + "\n" + tail
    return document.rstrip("\n") + f"\n\n{section}\n\n{intro}\n{generated}\n"


def write_doc(path, results):
    try:
        document = open(path).read()
    except FileNotFoundError:
        document = "# Performance\n"
    document = replace_block(document, "## Wire (state round trips)", "wire", WIRE_INTRO, wire_block(results))
    document = replace_block(document, "## Memory", "memory", MEMORY_INTRO, memory_block(results))
    with open(path, "w") as f:
        f.write(document)


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--doc"):
        print(__doc__, file=sys.stderr)
        return 2
    results = json.load(open(argv[1]))
    print(text_report(results))
    if len(argv) == 4:
        write_doc(argv[3], results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
