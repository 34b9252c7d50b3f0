"""The master's desired state next to what each agent reports: the ``desired`` message
(docs/control-channel.md#desired), as typed values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .fleet import JSONObject, checked


@dataclass(frozen=True)
class DesiredTopology:
    """What the agent should run: a topology, or nothing (``topology_id`` and ``version_hash`` None)."""

    topology_id: str | None
    version_hash: str | None
    supersede: bool
    request_id: str
    set_at: int

    @property
    def is_none(self) -> bool:
        """True when nothing of the master's should run on the agent."""
        return self.topology_id is None


@dataclass(frozen=True)
class DesiredView:
    """One agent in a ``desired`` answer.

    ``desired`` is None for an unmanaged agent. ``reported`` (None before the agent was ever heard) and
    ``reconcile`` are the objects docs/control-channel.md#desired describes.
    """

    agent_id: str
    desired: DesiredTopology | None
    paused: bool
    in_sync: bool
    reported: Mapping[str, Any] | None
    applied_here: tuple[str, ...]
    reconcile: Mapping[str, Any]
    raw: JSONObject = field(repr=False, compare=False)

    @property
    def reconcile_state(self) -> str | None:
        """``unmanaged``, ``in_sync``, ``waiting``, ``pushing``, ``backing_off`` or ``paused``."""
        state = self.reconcile.get("state")
        return state if isinstance(state, str) else None

    @staticmethod
    def parse(value: object, index: int) -> DesiredView:
        where = f"desired agents[{index}]"
        item: JSONObject = checked(value, dict, where)
        wanted = checked(item.get("desired"), dict, f"{where}.desired", nullable=True)
        desired = None
        if wanted is not None:
            desired = DesiredTopology(
                topology_id=checked(wanted.get("topology_id"), str, f"{where}.desired.topology_id", True),
                version_hash=checked(wanted.get("version_hash"), str, f"{where}.desired.version_hash", True),
                supersede=checked(wanted.get("supersede"), bool, f"{where}.desired.supersede"),
                request_id=checked(wanted.get("request_id"), str, f"{where}.desired.request_id"),
                set_at=checked(wanted.get("set_at"), int, f"{where}.desired.set_at"),
            )
        applied = checked(item.get("applied_here"), list, f"{where}.applied_here")
        return DesiredView(
            agent_id=checked(item.get("agent_id"), str, f"{where}.agent_id"),
            desired=desired,
            paused=checked(item.get("paused"), bool, f"{where}.paused"),
            in_sync=checked(item.get("in_sync"), bool, f"{where}.in_sync"),
            reported=checked(item.get("reported"), dict, f"{where}.reported", nullable=True),
            applied_here=tuple(checked(t, str, f"{where}.applied_here[{n}]") for n, t in enumerate(applied)),
            reconcile=checked(item.get("reconcile"), dict, f"{where}.reconcile"),
            raw=item,
        )
