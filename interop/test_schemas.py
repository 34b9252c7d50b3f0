"""The JSON Schemas in schemas/ are valid draft 2020-12, indexed in schemas/README.md, and accept the messages of
wire protocol v1 while refusing the mistakes a hand-written master or agent could make."""
import json
import pathlib

import pytest
from jsonschema import Draft202012Validator

import schema_check

ROOT = pathlib.Path(__file__).resolve().parents[1]
REGISTRY, BY_NAME = schema_check.load_registry()
HASH = "0259fb69" + "0" * 56
STATE = {"topology_id": "t-1", "applied_version_hash": HASH, "applied_at": 1776749115, "last_error": None,
         "attempt": None, "observed": {"bridges": ["decnet_t_lan-00"], "containers": ["decky-001"]},
         "drift": {"missing_bridges": [], "missing_containers": [], "stopped_containers": [],
                   "unexpected_containers": []}}
EMPTY_STATE = {"topology_id": None, "applied_version_hash": None, "applied_at": None, "last_error": None,
               "attempt": None, "observed": {"error": "cannot connect to the Docker daemon"}, "drift": None}


def valid(name, message):
    return not list(schema_check.validator(REGISTRY, BY_NAME, name).iter_errors(message))


def test_every_schema_is_valid_and_has_a_unique_id_matching_its_file():
    ids = set()
    for name, schema in BY_NAME.items():
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"].endswith("/" + name)
        assert schema["$id"] not in ids
        ids.add(schema["$id"])


def test_readme_indexes_every_schema():
    readme = (ROOT / "schemas" / "README.md").read_text()
    for name in BY_NAME:
        assert f"`{name}`" in readme, name


GOOD = [
    ("apply.schema.json", {"proto": 1, "type": "apply", "id": "r-1", "hydrated": {}, "version_hash": HASH}),
    ("teardown.schema.json", {"proto": 1, "type": "teardown", "id": "r:2", "topology_id": "5d81934e-aa"}),
    ("state-request.schema.json", {"proto": 1, "type": "state", "id": "r.3", "extra": "ignored"}),
    ("ping.schema.json", {"proto": 1, "type": "ping", "id": "r_4"}),
    ("rotate-key.schema.json", {"proto": 1, "type": "rotate_key", "id": "r_5", "phase": "prepare"}),
    ("request.schema.json", {"proto": 1, "type": "rotate_key", "id": "r_6", "phase": "activate"}),
    ("result-rotate-key.schema.json", {"proto": 1, "type": "result", "id": "r", "status": 200,
                                       "body": {"public_key": "x" * 40, "fingerprint": "a" * 64,
                                                "current_fingerprint": "b" * 64}}),
    ("accepted.schema.json", {"proto": 1, "type": "accepted", "id": "r-1"}),
    ("enrol.schema.json", {"proto": 1, "type": "enrol", "agent_id": "host-17", "public_key": "x" * 40,
                           "nonce": "A" * 32, "proof": "b-_" * 30}),
    ("enrol-answer.schema.json", {"proto": 1, "type": "enrolled", "agent_id": "host-17", "fingerprint": "a" * 64}),
    ("enrol-answer.schema.json", {"proto": 1, "type": "enrol_refused", "code": "id_taken", "message": "taken"}),
    ("progress.schema.json", {"proto": 1, "type": "progress", "id": "r-1", "phase": "images", "done": 1,
                              "total": 3, "message": "pulling"}),
    ("result-apply.schema.json", {"proto": 1, "type": "result", "id": "r-1", "status": 200,
                                  "body": {"status": "applied", "version_hash": HASH}}),
    ("result-teardown.schema.json", {"proto": 1, "type": "result", "id": "r-1", "status": 200,
                                     "body": {"status": "torn_down", "topology_id": "t",
                                              "removed": {"containers": [], "bridges": []}}}),
    ("result-state.schema.json", {"proto": 1, "type": "result", "id": "r", "status": 200, "body": EMPTY_STATE}),
    ("result-ping.schema.json", {"proto": 1, "type": "result", "id": "r", "status": 200,
                                 "body": {"agent_id": "host-17", "boot_id": "b", "agent_version": "0.1.0"}}),
    ("result.schema.json", {"proto": 1, "type": "result", "id": None, "status": 400,
                            "error": {"code": "bad_request", "message": "not JSON", "details": {"path": ""}}}),
    ("hello.schema.json", {"proto": 1, "type": "hello", "agent_id": "host-17", "agent_version": "0.1.0",
                           "boot_id": "b", "protocols": [1], "capabilities": ["apply"], "state": STATE}),
    ("heartbeat.schema.json", {"proto": 1, "type": "heartbeat", "agent_id": "host-17", "boot_id": "b", "seq": 1,
                               "sent_at": 1776749115000, "interval_ms": 10000, "agent_version": "0.1.0",
                               "running": {"id": "r-1", "type": "apply"}, "state": STATE}),
]

RECONCILE = {"state": "backing_off", "reason": "hash_mismatch", "attempts": 2, "last_error": "[conflict] other",
             "retry_in_ms": 9000, "request_id": None, "drift_heartbeats": 0, "pushes": 2}
DESIRED_ENTRY = {"agent_id": "host-17", "paused": False, "in_sync": False, "applied_here": ["t-1"],
                 "desired": {"topology_id": "t-1", "version_hash": HASH, "supersede": False, "request_id": "m-1",
                             "set_at": 1776749115000},
                 "reported": {"connected": True, "topology_id": None, "applied_version_hash": None, "drift": None,
                              "seen_at": 1776749115000},
                 "reconcile": RECONCILE}
REQUEST_ENTRY = {"agent_id": "host-17", "id": "m-1", "type": "apply", "origin": "operator", "topology_id": "t-1",
                 "version_hash": HASH, "created_at": 1776749115000, "deadline_at": 1776749175000,
                 "finished_at": 1776749116000, "status": "finished", "error": None,
                 "result": {"proto": 1, "type": "result", "id": "m-1", "status": 200,
                            "body": {"status": "applied", "version_hash": HASH}}}
OPEN_ENTRY = dict(REQUEST_ENTRY, id="r-2", type="teardown", origin="reconcile", version_hash=None,
                  finished_at=None, status="in_flight", result=None)
TIMED_OUT_ENTRY = dict(OPEN_ENTRY, status="timed_out", finished_at=1776749175000,
                       error={"code": "timeout", "message": "never sent", "sent": False})
GOOD += [
    ("control-desire.schema.json", {"proto": 1, "type": "desire", "agent_id": "host-17", "timeout_ms": 1000,
                                    "request": GOOD[0][1]}),
    ("control-desire.schema.json", {"proto": 1, "type": "desire", "agent_id": "host-17", "request": GOOD[1][1]}),
    ("control-desired-request.schema.json", {"proto": 1, "type": "desired"}),
    ("control-desired-request.schema.json", {"proto": 1, "type": "desired", "agent_id": "host-17"}),
    ("control-forget.schema.json", {"proto": 1, "type": "forget", "agent_id": "host-17"}),
    ("control-pause.schema.json", {"proto": 1, "type": "pause", "agent_id": "host-17"}),
    ("control-resume.schema.json", {"proto": 1, "type": "resume", "agent_id": "host-17"}),
    ("control-desired.schema.json", {"proto": 1, "type": "desired", "now": 1, "agents": [
        DESIRED_ENTRY, dict(DESIRED_ENTRY, desired={"topology_id": None, "version_hash": None, "supersede": False,
                                                    "request_id": "m-2", "set_at": 1}, reported=None),
        dict(DESIRED_ENTRY, desired=None, reconcile=dict(RECONCILE, state="unmanaged", reason=None))]}),
    ("control-error.schema.json", {"proto": 1, "type": "control_error", "id": "m-1",
                                   "error": {"code": "hash_mismatch", "message": "m"}}),
    ("control-error.schema.json", {"proto": 1, "type": "control_error", "id": "m-1",
                                   "error": {"code": "unknown_request", "message": "m"}}),
    ("control-request-request.schema.json", {"proto": 1, "type": "request", "agent_id": "host-17", "id": "m-1"}),
    ("control-requests-request.schema.json", {"proto": 1, "type": "requests", "agent_id": "host-17"}),
    ("control-requests-request.schema.json", {"proto": 1, "type": "requests", "agent_id": "host-17",
                                              "limit": 5000}),
    ("control-request.schema.json", {"proto": 1, "type": "request", "now": 1, "request": REQUEST_ENTRY}),
    ("control-requests.schema.json", {"proto": 1, "type": "requests", "agent_id": "host-17", "now": 1,
                                      "requests": [REQUEST_ENTRY, OPEN_ENTRY, TIMED_OUT_ENTRY]}),
    ("control-requests.schema.json", {"proto": 1, "type": "requests", "agent_id": "host-17", "now": 1,
                                      "requests": []}),
]

BAD = [
    ("control-desire.schema.json", {"proto": 1, "type": "desire", "agent_id": "host-17", "request": GOOD[2][1]}),
    ("control-desire.schema.json", {"proto": 1, "type": "desire", "request": GOOD[0][1]}),
    ("control-forget.schema.json", {"proto": 1, "type": "forget"}),
    ("control-pause.schema.json", {"proto": 1, "type": "pause", "agent_id": "../x"}),
    ("control-desired.schema.json", {"proto": 1, "type": "desired", "now": 1,
                                     "agents": [dict(DESIRED_ENTRY, reconcile=dict(RECONCILE, state="looping"))]}),
    ("control-desired.schema.json", {"proto": 1, "type": "desired", "now": 1,
                                     "agents": [dict(DESIRED_ENTRY, desired={"topology_id": "t"})]}),
    ("control-error.schema.json", {"proto": 1, "type": "control_error", "id": "m-1",
                                   "error": {"code": "teapot", "message": "m"}}),
    ("control-request-request.schema.json", {"proto": 1, "type": "request", "agent_id": "host-17"}),
    ("control-request-request.schema.json", {"proto": 1, "type": "request", "agent_id": "host-17", "id": "a b"}),
    ("control-requests-request.schema.json", {"proto": 1, "type": "requests", "agent_id": "host-17", "limit": "5"}),
    ("control-request.schema.json", {"proto": 1, "type": "request", "now": 1,
                                     "request": dict(REQUEST_ENTRY, status="done")}),
    ("control-request.schema.json", {"proto": 1, "type": "request", "now": 1,
                                     "request": dict(REQUEST_ENTRY, result=None)}),
    ("control-request.schema.json", {"proto": 1, "type": "request", "now": 1,
                                     "request": dict(OPEN_ENTRY, result=REQUEST_ENTRY["result"])}),
    ("control-request.schema.json", {"proto": 1, "type": "request", "now": 1,
                                     "request": dict(TIMED_OUT_ENTRY, error=None)}),
    ("control-request.schema.json", {"proto": 1, "type": "request", "now": 1,
                                     "request": {k: v for k, v in REQUEST_ENTRY.items() if k != "origin"}}),
    ("control-requests.schema.json", {"proto": 1, "type": "requests", "agent_id": "host-17", "now": 1,
                                      "requests": [dict(REQUEST_ENTRY, origin="cron")]}),
    ("apply.schema.json", {"proto": 1, "type": "apply", "id": "r", "hydrated": {}, "version_hash": HASH.upper()}),
    ("apply.schema.json", {"proto": 2, "type": "apply", "id": "r", "hydrated": {}, "version_hash": HASH}),
    ("ping.schema.json", {"proto": 1, "type": "ping", "id": "has space"}),
    ("rotate-key.schema.json", {"proto": 1, "type": "rotate_key", "id": "r", "phase": "later"}),
    ("enrol.schema.json", {"proto": 1, "type": "enrol", "agent_id": "host-17", "public_key": "x" * 40,
                           "nonce": "A" * 32, "proof": "b", "token": "decnet-enrol-v1.x"}),
    ("enrol.schema.json", {"proto": 1, "type": "enrol", "agent_id": "../x", "public_key": "x" * 40,
                           "nonce": "A" * 32, "proof": "b"}),
    ("enrol-answer.schema.json", {"proto": 1, "type": "enrol_refused", "code": "maybe", "message": "?"}),
    ("rotate-key.schema.json", {"proto": 1, "type": "rotate_key", "id": "r"}),
    ("result-rotate-key.schema.json", {"proto": 1, "type": "result", "id": "r", "status": 200,
                                       "body": {"public_key": "x" * 40, "fingerprint": "A" * 64,
                                                "current_fingerprint": "b" * 64}}),
    ("teardown.schema.json", {"proto": 1, "type": "teardown", "id": "r", "topology_id": ".hidden"}),
    ("progress.schema.json", {"proto": 1, "type": "progress", "id": "r", "phase": "dance", "done": 0, "total": 0,
                              "message": ""}),
    ("result.schema.json", {"proto": 1, "type": "result", "id": "r", "status": 400,
                            "error": {"code": "busy", "message": "", "details": {}}}),
    ("result.schema.json", {"proto": 1, "type": "result", "id": "r", "status": 400,
                            "error": {"code": "teapot", "message": "", "details": {}}}),
    ("result.schema.json", {"proto": 1, "type": "result", "id": "r", "status": 200}),
    ("state.schema.json", dict(EMPTY_STATE, drift=STATE["drift"])),
    ("state.schema.json", dict(STATE, observed={"error": "x" * 201}, drift=None)),
    ("hello.schema.json", {"proto": 1, "type": "hello", "agent_id": "host-17", "agent_version": "0.1.0",
                           "boot_id": "b", "protocols": [2], "capabilities": [], "state": STATE}),
    ("heartbeat.schema.json", {"proto": 1, "type": "heartbeat", "agent_id": "host-17", "boot_id": "b", "seq": 0,
                               "sent_at": 1, "interval_ms": 10000, "agent_version": "0.1.0", "running": None,
                               "state": STATE}),
]


@pytest.mark.parametrize("name,message", GOOD, ids=[g[0] for g in GOOD])
def test_accepts_protocol_messages(name, message):
    assert valid(name, message)
    if not name.startswith("control-"):
        assert valid("message.schema.json", message)


@pytest.mark.parametrize("name,message", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_refuses_mistakes(name, message):
    assert not valid(name, message)


def test_every_error_code_validates_only_with_its_status():
    statuses = {"bad_request": 400, "unsupported_proto": 400, "unknown_type": 400, "hash_mismatch": 400,
                "invalid_topology": 400, "conflict": 409, "port_conflict": 409, "busy": 409, "id_reused": 409,
                "too_large": 413, "runtime_error": 500, "docker_unavailable": 503, "state_unavailable": 503, "internal": 500,
                "key_rotation_failed": 500}
    for code, status in statuses.items():
        for candidate in (400, 409, 413, 500, 503):
            message = {"proto": 1, "type": "result", "id": "r", "status": candidate,
                       "error": {"code": code, "message": "m", "details": {}}}
            assert valid("result-error.schema.json", message) == (candidate == status), (code, candidate)
