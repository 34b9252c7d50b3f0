#!/usr/bin/env python3
"""Validates messages against the project's JSON Schemas (schemas/, draft 2020-12).

Used by the Swift tests (Tests/MasterTests) and by test_schemas.py. Reads JSON lines from standard input, each
{"schema": "<file name in schemas/>", "message": <the message>, "valid": true|false (default true)}, and prints one
JSON object: {"checked": N, "failures": [{"index", "schema", "expected_valid", "errors"}]}. Exit 0 when every
message validated as expected, 1 otherwise, 2 on bad input.
"""
import json
import pathlib
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = pathlib.Path(__file__).resolve().parents[1] / "schemas"


def load_registry():
    resources = {}
    by_name = {}
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        resources[schema["$id"]] = Resource.from_contents(schema)
        by_name[path.name] = schema
    return Registry().with_resources(resources.items()), by_name


def validator(registry, by_name, name):
    return Draft202012Validator(by_name[name], registry=registry)


def main():
    registry, by_name = load_registry()
    failures = []
    checked = 0
    for index, line in enumerate(sys.stdin):
        if not line.strip():
            continue
        item = json.loads(line)
        name = item["schema"]
        if name not in by_name:
            print(json.dumps({"error": f"no schema {name}"}))
            return 2
        expected = item.get("valid", True)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"[:300]
                  for e in validator(registry, by_name, name).iter_errors(item["message"])]
        checked += 1
        if bool(errors) == expected:
            failures.append({"index": index, "schema": name, "expected_valid": expected,
                             "errors": errors[:5], "message": json.dumps(item["message"])[:300]})
    print(json.dumps({"checked": checked, "failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
