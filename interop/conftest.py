"""Fixtures of the interop tests: a pyzmq master (wire_master.py), the real decnet-agent binary, schema checks,
and topologies that clean up after themselves even when a test fails."""
import json
import pathlib
import secrets
import subprocess
import sys

import pytest

# The Python client (python/decnet_fleet) is tested from this checkout, whether or not `pip install ./python` ran.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))

import agent_process
import schema_check
import topologies
from wire_master import WireMaster, make_certificate

REGISTRY, BY_NAME = schema_check.load_registry()


def schema_errors(name, message):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"[:300]
            for e in schema_check.validator(REGISTRY, BY_NAME, name).iter_errors(message)]


def assert_schema(name, message):
    """`message` validates against schemas/`name` and against the dispatching message schema."""
    errors = schema_errors(name, message)
    assert not errors, f"{name}: {errors} in {json.dumps(message)[:400]}"
    errors = schema_errors("message.schema.json", message)
    assert not errors, f"message.schema.json: {errors} in {json.dumps(message)[:400]}"


@pytest.fixture(scope="session")
def agent_binary():
    return agent_process.agent_binary()


@pytest.fixture(scope="session")
def docker_ready():
    """The tests that apply need the real dockerd and the local test images (scripts/docker-test-env.sh)."""
    try:
        subprocess.run(["docker", "image", "inspect", "decnet-test/busybox:latest"], check=True,
                       capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as error:
        pytest.fail(f"dockerd or decnet-test/busybox:latest is missing (run scripts/docker-test-env.sh): {error}")


class Fleet:
    """A master and the agents started against it; every agent is stopped at the end."""

    def __init__(self, directory, binary):
        self.directory = directory
        self.binary = binary
        self.master = WireMaster(directory / "master")
        self.agents = []

    def start_agent(self, enrol=True, master_key_file=None, heartbeat_interval="1", extra=(), env=None):
        agent_id = f"pyi-{secrets.token_hex(4)}"
        public_file, secret_file = make_certificate(self.directory / agent_id, agent_id)
        if enrol:
            self.master.enrol(agent_id, public_file)
        agent = agent_process.AgentProcess(
            self.binary, agent_id=agent_id, master=self.master, key_file=secret_file,
            master_key_file=master_key_file, state_dir=self.directory / agent_id / "state",
            log_path=self.directory / f"{agent_id}.log", heartbeat_interval=heartbeat_interval, extra=extra, env=env)
        agent.public_file = public_file
        agent.key_file = secret_file
        agent.state_dir = self.directory / agent_id / "state"
        self.agents.append(agent)
        return agent

    def close(self):
        for agent in self.agents:
            agent.stop()
        self.master.close()


@pytest.fixture
def fleet(tmp_path, agent_binary, request):
    fleet = Fleet(tmp_path, agent_binary)
    yield fleet
    fleet.close()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for agent in fleet.agents:
            print(f"--- log of {agent.agent_id}\n{agent.log()[-4000:]}")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    setattr(item, "rep_" + outcome.get_result().when, outcome.get_result())


@pytest.fixture
def cleanup_topologies():
    """Register topology ids; everything labelled with them is removed at the end, whatever happened."""
    ids = []
    yield ids
    for topology_id in ids:
        topologies.remove_everything(topology_id)
