"""What the master's store knows of a request: the ``request`` and ``requests`` answers
(docs/control-channel.md#request), as typed values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .fleet import JSONObject, checked

#: The statuses docs/control-channel.md#request lists.
STATUSES = frozenset({"in_flight", "finished", "timed_out", "refused", "unknown"})


@dataclass(frozen=True)
class RequestRecord:
    """One apply or teardown the master sent, as its store keeps it.

    ``status`` is ``in_flight`` (no outcome yet), ``finished`` (the agent answered: ``result`` is its ``result``
    envelope verbatim, whatever its status), ``timed_out`` (never handed to the agent: nothing ran), ``refused``
    (ended by the master before it was sent: ``error``) or ``unknown`` (no result, and the agent may have run it).
    ``origin`` is ``operator`` (a desire), ``submit`` or ``reconcile``. Times are Unix milliseconds.
    """

    agent_id: str
    request_id: str
    type: str
    origin: str
    topology_id: str | None
    version_hash: str | None
    created_at: int
    deadline_at: int
    finished_at: int | None
    status: str
    result: Mapping[str, Any] | None
    error: Mapping[str, Any] | None
    raw: JSONObject = field(repr=False, compare=False)

    @property
    def succeeded(self) -> bool:
        """True when the agent answered with status 200."""
        return self.result is not None and self.result.get("status") == 200

    @staticmethod
    def parse(value: object, where: str) -> RequestRecord:
        item: JSONObject = checked(value, dict, where)
        # A status this library does not know yet (not in STATUSES) is kept as it came.
        status = checked(item.get("status"), str, f"{where}.status")
        return RequestRecord(
            agent_id=checked(item.get("agent_id"), str, f"{where}.agent_id"),
            request_id=checked(item.get("id"), str, f"{where}.id"),
            type=checked(item.get("type"), str, f"{where}.type"),
            origin=checked(item.get("origin"), str, f"{where}.origin"),
            topology_id=checked(item.get("topology_id"), str, f"{where}.topology_id", True),
            version_hash=checked(item.get("version_hash"), str, f"{where}.version_hash", True),
            created_at=checked(item.get("created_at"), int, f"{where}.created_at"),
            deadline_at=checked(item.get("deadline_at"), int, f"{where}.deadline_at"),
            finished_at=checked(item.get("finished_at"), int, f"{where}.finished_at", True),
            status=status,
            result=checked(item.get("result"), dict, f"{where}.result", True),
            error=checked(item.get("error"), dict, f"{where}.error", True),
            raw=item,
        )
