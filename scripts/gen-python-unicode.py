#!/usr/bin/env python3
"""Generates the Unicode tables that make the agent's Python text emulation match CPython 3.11 exactly.

DECNET runs on CPython 3.11, whose str.lower(), str.isprintable() and repr() use the Unicode 14.0 database, while
Swift's Unicode.Scalar.Properties follow a newer Unicode version. This script compares, for every code point except
the surrogates, what CPython 3.11 does with what this Swift toolchain says, and writes:

* Sources/Topology/Compose/PythonUnicode+Table.swift: the code points where the two differ, with CPython's
  behaviour (the Swift build never needs Python);
* Tests/Fixtures/python311_unicode.json: CPython 3.11's behaviour for every code point, as compact ranges, so the
  Swift tests can check the emulation over the whole code space (interop/test_python_unicode.py checks that
  fixture against the running CPython).

Three properties per code point: lower() of the one-character string; isprintable(); and the class that decides
the Final_Sigma rule of lower(): "ignorable" (Case_Ignorable: skipped when looking for a cased neighbour), "cased"
(Cased and not Case_Ignorable), or neither. CPython does not expose the two flags, so they are read off lower()
itself: "A" + c + "Σ" ends in a final sigma iff c is ignorable or cased; "AΣ" + c has a final sigma iff c is
ignorable or not cased.

Usage: python3.11 scripts/gen-python-unicode.py   (needs swiftc; run from the repository root)
"""
import json
import os
import subprocess
import sys
import tempfile
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = os.path.join(ROOT, "Sources/Topology/Compose/PythonUnicode+Table.swift")
FIXTURE = os.path.join(ROOT, "Tests/Fixtures/python311_unicode.json")
SURROGATES = range(0xD800, 0xE000)
NONE, CASED, IGNORABLE = 0, 1, 2

SWIFT_DUMP = r"""
// Prints, per code point: hex, lower-case mapping (hex code points joined by '.'), printable 0/1, class 0/1/2.
var out = ""
for v in UInt32(0)...0x10FFFF {
    guard let s = Unicode.Scalar(v) else { continue }
    let p = s.properties
    let lower = p.lowercaseMapping.unicodeScalars.map { String($0.value, radix: 16) }.joined(separator: ".")
    let printable: Bool
    switch p.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
        printable = false
    case .spaceSeparator:
        printable = v == 0x20
    default:
        printable = true
    }
    let cls = p.isCaseIgnorable ? 2 : (p.isCased ? 1 : 0)
    out += "\(String(v, radix: 16)) \(lower) \(printable ? 1 : 0) \(cls)\n"
    if out.utf8.count > 1 << 16 { print(out, terminator: ""); out = "" }
}
print(out, terminator: "")
"""


def python_props(cp):
    c = chr(cp)
    low = tuple(ord(x) for x in c.lower())
    after = ("A" + c + "\u03a3").lower()[-1] == "\u03c2"  # ignorable or cased
    before = ("A\u03a3" + c).lower()[1] == "\u03c2"  # ignorable or not cased
    cls = IGNORABLE if after and before else (CASED if after else NONE)
    return low, c.isprintable(), cls


def swift_props():
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "dump.swift")
        exe = os.path.join(tmp, "dump")
        with open(src, "w") as f:
            f.write(SWIFT_DUMP)
        subprocess.run(["swiftc", "-O", "-o", exe, src], check=True)
        text = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    props = {}
    for line in text.splitlines():
        cp, low, printable, cls = line.split(" ")
        props[int(cp, 16)] = (tuple(int(x, 16) for x in low.split(".")), printable == "1", int(cls))
    return props


def ranges(cps):
    """Sorted code points as [first, last] runs."""
    out = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def lower_runs(py):
    """Single-code-point lower mappings as [first, last, step, delta] runs; longer ones listed whole."""
    runs, multi = [], []
    for cp in sorted(py):
        low = py[cp][0]
        if low == (cp,):
            continue
        if len(low) != 1:
            multi.append([cp, list(low)])
            continue
        delta = low[0] - cp
        if runs:
            first, last, step, d = runs[-1]
            if d == delta and (cp - last == step or (first == last and cp - last in (1, 2))):
                runs[-1] = [first, cp, cp - last, d]
                continue
        runs.append([cp, cp, 1, delta])
    return runs, multi


def swift_ranges(rs, per_line=6):
    items = [f"0x{a:X}...0x{b:X}" for a, b in rs]
    return ",\n".join("        " + ", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line))


def main():
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"needs CPython 3.11 (Unicode 14.0); this is {sys.version.split()[0]}")
    py = {cp: python_props(cp) for cp in range(0x110000) if cp not in SURROGATES}
    sw = swift_props()
    differ = [cp for cp in sorted(py) if py[cp] != sw[cp]]
    # Most differences are code points Unicode 14.0 had not assigned: CPython leaves them alone entirely.
    unassigned = [cp for cp in differ if py[cp] == ((cp,), False, NONE)]
    other = [cp for cp in differ if py[cp] != ((cp,), False, NONE)]
    if any(len(py[cp][0]) != 1 for cp in other):
        sys.exit("a multi-code-point lower() difference: extend the table format")

    lines = [
        "// Generated by scripts/gen-python-unicode.py from CPython "
        f"{sys.version.split()[0]} (Unicode {unicodedata.unidata_version}) and this Swift toolchain; do not edit.",
        "",
        "extension PythonUnicode {",
        f"    /// The {len(unassigned)} code points where CPython 3.11 differs from Swift because Unicode "
        f"{unicodedata.unidata_version} had not",
        "    /// assigned them: CPython keeps them as they are in `lower()`, finds them unprintable and uncased.",
        "    static let unassignedInPython: [ClosedRange<UInt32>] = [",
        swift_ranges(ranges(unassigned)),
        "    ]",
        "",
        "    /// Other code points where CPython 3.11 differs: (code point, its `lower()`, printable, case class).",
        "    static let otherDifferences: [(UInt32, UInt32, Bool, CaseClass)] = [",
    ]
    names = {NONE: ".none", CASED: ".cased", IGNORABLE: ".ignorable"}
    for cp in other:
        low, printable, cls = py[cp]
        lines.append(f"        (0x{cp:X}, 0x{low[0]:X}, {'true' if printable else 'false'}, {names[cls]}),")
    lines += ["    ]", "}", ""]
    with open(TABLE, "w") as f:
        f.write("\n".join(lines))

    runs, multi = lower_runs(py)
    fixture = {
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
        "note": "CPython's behaviour per code point (surrogates excluded); written by scripts/gen-python-unicode.py",
        "printable": ranges(cp for cp in sorted(py) if py[cp][1]),
        "cased": ranges(cp for cp in sorted(py) if py[cp][2] == CASED),
        "ignorable": ranges(cp for cp in sorted(py) if py[cp][2] == IGNORABLE),
        "lower_runs": runs,
        "lower_multi": multi,
    }
    with open(FIXTURE, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(differ)} differing code points: {len(unassigned)} unassigned in "
          f"{unicodedata.unidata_version}, {len(other)} other; fixture {os.path.getsize(FIXTURE)} bytes")


if __name__ == "__main__":
    main()
