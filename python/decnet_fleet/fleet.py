"""The fleet view as typed values (docs/control-channel.md#fleet), and the changes between two snapshots
(docs/control-channel.md#watch).

Each view keeps the message it was read from in ``raw``, so members added later stay reachable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import ProtocolError

JSONObject = Mapping[str, Any]


def checked(value: object, expected: type, where: str, nullable: bool = False) -> Any:
    """`value` when it has the expected JSON type, else a ProtocolError naming `where` in the master's answer."""
    if value is None and nullable:
        return None
    if isinstance(value, bool) and expected is int:
        raise ProtocolError(f"the master's answer: {where} is not an integer")
    if not isinstance(value, expected):
        raise ProtocolError(f"the master's answer: {where} has the wrong type ({type(value).__name__})")
    return value


@dataclass(frozen=True)
class Heartbeat:
    """The latest heartbeat the master admitted from an agent (docs/wire-protocol.md#heartbeat)."""

    seq: int
    boot_id: str
    received_at: int
    age_ms: int
    sent_at: int | None
    interval_ms: int | None
    count: int
    gaps: int
    out_of_order: int

    @staticmethod
    def parse(value: JSONObject, where: str) -> Heartbeat:
        def number(name: str, nullable: bool = False) -> Any:
            return checked(value.get(name), int, f"{where}.{name}", nullable)

        return Heartbeat(
            seq=number("seq"),
            boot_id=checked(value.get("boot_id"), str, f"{where}.boot_id"),
            received_at=number("received_at"),
            age_ms=number("age_ms"),
            sent_at=number("sent_at", True),
            interval_ms=number("interval_ms", True),
            count=number("count"),
            gaps=number("gaps"),
            out_of_order=number("out_of_order"),
        )


@dataclass(frozen=True)
class PendingRequest:
    """A request the master holds for an agent: ``phase`` is ``waiting``, ``sent`` or ``accepted``."""

    id: str
    type: str
    phase: str
    attempts: int


@dataclass(frozen=True)
class AgentView:
    """One agent as the master sees it."""

    agent_id: str
    connected: bool
    disconnect_reason: str | None
    connections: int
    boot_id: str | None
    agent_version: str | None
    hello_at: int | None
    last_seen_age_ms: int | None
    heartbeat: Heartbeat | None
    topology_id: str | None
    applied_version_hash: str | None
    observed_error: str | None
    drift: Mapping[str, int] | None
    running: Mapping[str, Any] | None
    pending: tuple[PendingRequest, ...]
    #: SHA-256 (hex) of the key its command route was made with; None without a route or from an older master.
    key_fingerprint: str | None
    raw: JSONObject = field(repr=False, compare=False)

    @staticmethod
    def parse(value: object, index: int) -> AgentView:
        where = f"agents[{index}]"
        item: JSONObject = checked(value, dict, where)

        def get(name: str, kind: type, nullable: bool = True) -> Any:
            return checked(item.get(name), kind, f"{where}.{name}", nullable)

        heartbeat = get("heartbeat", dict)
        pending = []
        for number, entry in enumerate(get("pending", list, nullable=False)):
            entry_where = f"{where}.pending[{number}]"
            entry = checked(entry, dict, entry_where)
            pending.append(
                PendingRequest(
                    id=checked(entry.get("id"), str, f"{entry_where}.id"),
                    type=checked(entry.get("type"), str, f"{entry_where}.type"),
                    phase=checked(entry.get("phase"), str, f"{entry_where}.phase"),
                    attempts=checked(entry.get("attempts"), int, f"{entry_where}.attempts"),
                )
            )
        return AgentView(
            agent_id=get("agent_id", str, nullable=False),
            connected=get("connected", bool, nullable=False),
            disconnect_reason=get("disconnect_reason", str),
            connections=get("connections", int, nullable=False),
            boot_id=get("boot_id", str),
            agent_version=get("agent_version", str),
            hello_at=get("hello_at", int),
            last_seen_age_ms=get("last_seen_age_ms", int),
            heartbeat=None if heartbeat is None else Heartbeat.parse(heartbeat, f"{where}.heartbeat"),
            topology_id=get("topology_id", str),
            applied_version_hash=get("applied_version_hash", str),
            observed_error=get("observed_error", str),
            drift=get("drift", dict),
            running=get("running", dict),
            pending=tuple(pending),
            key_fingerprint=get("key_fingerprint", str),
            raw=item,
        )


@dataclass(frozen=True)
class FleetSnapshot:
    """A ``fleet`` message: the master's clock (Unix ms), its agents in id order, and its counters."""

    now: int
    agents: tuple[AgentView, ...]
    counters: JSONObject
    raw: JSONObject = field(repr=False, compare=False)

    @staticmethod
    def parse(message: JSONObject) -> FleetSnapshot:
        agents = checked(message.get("agents"), list, "agents")
        return FleetSnapshot(
            now=checked(message.get("now"), int, "now"),
            agents=tuple(AgentView.parse(value, index) for index, value in enumerate(agents)),
            counters=checked(message.get("counters"), dict, "counters"),
            raw=message,
        )

    def agent(self, agent_id: str) -> AgentView | None:
        """The agent with this id, or None when the master has not heard from it since it started."""
        return next((agent for agent in self.agents if agent.agent_id == agent_id), None)


EventKind = Literal["snapshot", "joined", "connected", "disconnected", "heartbeat", "state", "pending"]


@dataclass(frozen=True)
class FleetEvent:
    """One item of :meth:`FleetClient.watch`.

    ``snapshot`` comes for every fleet message the master pushes (at least one per renewal, so about every 10 s),
    and is followed by one event per agent change it shows against the previous one:

    ========== ============================================================================================
    kind       when
    ========== ============================================================================================
    joined     the agent appears (said hello or sent a heartbeat for the first time since the master started)
    connected  it became connected
    disconnected it stopped being connected (see ``agent.disconnect_reason``)
    heartbeat  a new heartbeat arrived (``agent.heartbeat`` has another ``seq`` or ``boot_id``)
    state      topology, applied hash, drift, observed error or running request changed
    pending    the master's outstanding requests for it changed
    ========== ============================================================================================

    ``agent`` and ``previous`` are None for ``snapshot``; ``previous`` is None for ``joined``.
    """

    kind: EventKind
    snapshot: FleetSnapshot
    agent: AgentView | None = None
    previous: AgentView | None = None

    @property
    def agent_id(self) -> str | None:
        return None if self.agent is None else self.agent.agent_id


def _state(agent: AgentView) -> tuple[Any, ...]:
    return (agent.topology_id, agent.applied_version_hash, agent.observed_error, agent.drift, agent.running)


def _beat(agent: AgentView) -> tuple[Any, ...] | None:
    return None if agent.heartbeat is None else (agent.heartbeat.boot_id, agent.heartbeat.seq)


def changes(previous: FleetSnapshot | None, current: FleetSnapshot) -> list[FleetEvent]:
    """The events of `current` against `previous`: always a ``snapshot`` first, then per-agent changes.

    The first snapshot of a watch (`previous` None) gives only the ``snapshot`` event: it is the starting view.
    """
    events = [FleetEvent("snapshot", current)]
    if previous is None:
        return events
    before = {agent.agent_id: agent for agent in previous.agents}
    for agent in current.agents:
        old = before.get(agent.agent_id)
        if old is None:
            events.append(FleetEvent("joined", current, agent))
            if _beat(agent) is not None:
                events.append(FleetEvent("heartbeat", current, agent))
            continue
        if agent.connected != old.connected:
            events.append(FleetEvent("connected" if agent.connected else "disconnected", current, agent, old))
        if _beat(agent) is not None and _beat(agent) != _beat(old):
            events.append(FleetEvent("heartbeat", current, agent, old))
        if _state(agent) != _state(old):
            events.append(FleetEvent("state", current, agent, old))
        if agent.pending != old.pending:
            events.append(FleetEvent("pending", current, agent, old))
    return events
