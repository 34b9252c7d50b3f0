"""One exception hierarchy for everything that can go wrong between a caller and an agent.

Every failure is a :class:`FleetError` with a stable ``code``. The code comes from one of three places
(``origin``):

* ``"agent"``: the agent answered a failed ``result`` (docs/wire-protocol.md#errors). ``status`` is the status it
  sent, ``details`` its ``error.details``.
* ``"master"``: the master answered ``control_error`` (docs/control-channel.md#errors).
* ``"client"``: this library decided (``not_serving``, ``pending``, ``timeout`` of a fleet or watch exchange,
  ``protocol_error``).

A code that the agent and the master share (``bad_request``, ``id_reused``) maps to the same class, so one
``except`` catches both. Decide on the class or on ``code``, never on the message text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

Origin = Literal["agent", "master", "client"]


class FleetError(Exception):
    """A refused, failed or unfinished operation, with the wire ``code`` and, when the code has one, its status."""

    #: The code this class stands for; the base class is used for codes this library does not know yet.
    code_name: ClassVar[str] = ""
    #: The status number docs/wire-protocol.md#errors gives the code, or None for codes that only exist on the
    #: control channel or in the client.
    wire_status: ClassVar[int | None] = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        origin: Origin = "client",
        request_id: str | None = None,
        agent_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code: str = code or self.code_name or "unknown"
        self.status: int | None = status if status is not None else self.wire_status
        self.origin: Origin = origin
        self.request_id = request_id
        self.agent_id = agent_id
        self.details: Mapping[str, Any] = details if details is not None else {}

    def __str__(self) -> str:
        where = f" (request {self.request_id} for {self.agent_id})" if self.request_id and self.agent_id else ""
        status = f" {self.status}" if self.status is not None else ""
        return f"{self.message} [{self.code}{status}]{where}"


# Codes of a failed result (docs/wire-protocol.md#errors); bad_request and id_reused are also control errors.


class BadRequestError(FleetError):
    """The request or control message is malformed; nothing was run."""

    code_name, wire_status = "bad_request", 400


class UnsupportedProtoError(FleetError):
    """The agent does not speak this ``proto``."""

    code_name, wire_status = "unsupported_proto", 400


class UnknownTypeError(FleetError):
    """The agent does not know the request type."""

    code_name, wire_status = "unknown_type", 400


class HashMismatchError(FleetError):
    """``version_hash`` is not the canonical hash of ``hydrated``; ``details`` has ``expected`` and ``actual``."""

    code_name, wire_status = "hash_mismatch", 400


class InvalidTopologyError(FleetError):
    """The topology failed validation or composition; ``details["issues"]`` lists every issue."""

    code_name, wire_status = "invalid_topology", 400


class ConflictError(FleetError):
    """Another topology is applied and ``supersede`` was false; ``details["applied_topology_id"]`` names it."""

    code_name, wire_status = "conflict", 409


class PortConflictError(FleetError):
    """Host ports collide or are already bound; ``details["ports"]`` lists them."""

    code_name, wire_status = "port_conflict", 409


class BusyError(FleetError):
    """Another apply or teardown runs on the agent; ``details["running"]`` names it."""

    code_name, wire_status = "busy", 409


class IdReusedError(FleetError):
    """The request id was used before with other content (by the agent's store, or in flight at the master)."""

    code_name, wire_status = "id_reused", 409


class TooLargeError(FleetError):
    """The request is over the agent's envelope limit."""

    code_name, wire_status = "too_large", 413


class DockerRuntimeError(FleetError):
    """A Docker operation was refused or failed (``runtime_error``); ``details`` has ``phase`` and ``docker``."""

    code_name, wire_status = "runtime_error", 500


class KeyRotationFailedError(FleetError):
    """``rotate_key`` cannot be done on the agent (no key rotation, an unusable key file or folder, no next key)."""

    code_name, wire_status = "key_rotation_failed", 500


class InternalError(FleetError):
    """Anything else failed on the agent (store, compose file, a restart during the request)."""

    code_name, wire_status = "internal", 500


class DockerUnavailableError(FleetError):
    """The agent cannot reach its Docker Engine."""

    code_name, wire_status = "docker_unavailable", 503


class StateUnavailableError(FleetError):
    """The agent's state directory is gone; apply and teardown are refused until it is back."""

    code_name, wire_status = "state_unavailable", 503


# Codes of the control channel only (docs/control-channel.md#errors).


class NotEnrolledError(FleetError):
    """No allow-list entry names the agent; nothing was sent."""

    code_name = "not_enrolled"


class DeadlineExceededError(FleetError):
    """No result before the deadline and the request was never handed to the agent (``sent`` false): nothing ran,
    and nothing will. Also raised by the client when the master does not answer a fleet or watch request in time."""

    code_name = "timeout"


class RevokedError(FleetError):
    """The agent's key left the allow-list while the request was outstanding."""

    code_name = "revoked"


class ShutdownError(FleetError):
    """The master is stopping: at submit time, or while the request was outstanding."""

    code_name = "shutdown"


class StoreFailedError(FleetError):
    """The master's store could not record a desired-state change (nothing changed and nothing was sent), or could
    not be read for a request look-up."""

    code_name = "store_failed"


class UnknownRequestError(FleetError):
    """A request look-up: the master's store holds no request with this id for this agent (never sent through
    this master, a state or ping, or trimmed)."""

    code_name = "unknown_request"


# Codes of the client only.


class NotServingError(FleetError):
    """No master serves the directory: it does not exist, has no ``control.ipc``, or nothing listens on it."""

    code_name = "not_serving"


class OutcomePendingError(FleetError):
    """The outcome is unknown: the request was handed to the agent and may still run, or the master gave no verdict
    by the deadline plus the grace. Submit again with the same ``request_id`` to fetch the result."""

    code_name = "pending"


class ProtocolError(FleetError):
    """The master sent something that does not follow docs/control-channel.md."""

    code_name = "protocol_error"


ERRORS: Mapping[str, type[FleetError]] = {
    cls.code_name: cls
    for cls in (
        BadRequestError,
        UnsupportedProtoError,
        UnknownTypeError,
        HashMismatchError,
        InvalidTopologyError,
        ConflictError,
        PortConflictError,
        BusyError,
        IdReusedError,
        TooLargeError,
        DockerRuntimeError,
        KeyRotationFailedError,
        InternalError,
        DockerUnavailableError,
        StateUnavailableError,
        NotEnrolledError,
        DeadlineExceededError,
        RevokedError,
        ShutdownError,
        StoreFailedError,
        UnknownRequestError,
        NotServingError,
        OutcomePendingError,
        ProtocolError,
    )
}
"""Every code this library knows, with its exception class."""


def error_for(
    code: str,
    message: str,
    *,
    status: int | None = None,
    origin: Origin,
    request_id: str | None = None,
    agent_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> FleetError:
    """The exception for ``code``; an unknown code gives a plain :class:`FleetError` that keeps it."""
    cls = ERRORS.get(code, FleetError)
    return cls(
        message,
        code=code,
        status=status,
        origin=origin,
        request_id=request_id,
        agent_id=agent_id,
        details=details,
    )
