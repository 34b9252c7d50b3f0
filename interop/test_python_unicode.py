"""Tests/Fixtures/python311_unicode.json (written by scripts/gen-python-unicode.py) records CPython 3.11's lower(),
isprintable() and Final_Sigma case class for every code point; the Swift tests hold the agent's emulation to it.
This checks the fixture itself against the running CPython 3.11."""
import json
import pathlib
import sys
import unicodedata

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the fixture records CPython 3.11")


def load():
    return json.loads((ROOT / "Tests/Fixtures/python311_unicode.json").read_text())


def expand(ranges):
    return {cp for first, last in ranges for cp in range(first, last + 1)}


def test_fixture_matches_running_cpython():
    fixture = load()
    assert fixture["unicode"] == unicodedata.unidata_version
    printable, cased, ignorable = (expand(fixture[k]) for k in ("printable", "cased", "ignorable"))
    lower = {}
    for first, last, step, delta in fixture["lower_runs"]:
        for cp in range(first, last + 1, step):
            lower[cp] = chr(cp + delta)
    for cp, mapped in fixture["lower_multi"]:
        lower[cp] = "".join(map(chr, mapped))
    wrong = []
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        after = ("A" + c + "\u03a3").lower()[-1] == "\u03c2"
        before = ("A\u03a3" + c).lower()[1] == "\u03c2"
        is_ignorable = after and before
        is_cased = after and not before
        if (c.lower() != lower.get(cp, c) or c.isprintable() != (cp in printable)
                or is_ignorable != (cp in ignorable) or is_cased != (cp in cased)):
            wrong.append(hex(cp))
    assert wrong[:20] == []
