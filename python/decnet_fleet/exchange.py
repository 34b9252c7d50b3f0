"""The control-channel exchanges without any socket: what to send when, and what an incoming message means.

:class:`FleetClient` and :class:`AsyncFleetClient` drive these with a socket and a clock; the tests drive them
with a fake clock. Times are seconds on a monotonic clock.

A submit (docs/control-channel.md#submit, #deadlines, #resending)::

    send ──► waiting ──(submitted, accepted, progress)──► waiting
               │  every 3 s before the deadline: send again with the time left
               ├──(answer: result)────────► done: the body, or the agent's error
               ├──(control_error)─────────► the master's error (timeout, sent: true -> pending)
               └──(deadline + 5 s)────────► pending: no verdict from the master
"""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import (
    DeadlineExceededError,
    FleetError,
    NotServingError,
    OutcomePendingError,
    ProtocolError,
    error_for,
)
from .desired import DesiredView
from .fleet import FleetEvent, FleetSnapshot, JSONObject, changes, checked
from .records import RequestRecord

CONTROL_FILE = "control.ipc"
#: sun_path holds 108 bytes on Linux, one of them the terminating NUL (docs/control-channel.md#endpoint).
SUN_PATH_MAX = 107
#: The master clamps a submit's timeout into 1 ms to 7 days (docs/control-channel.md#deadlines).
MAX_TIMEOUT_S = 604_800.0
RESEND_EVERY_S = 3.0
#: How much longer than the master the client waits for the master's verdict.
GRACE_S = 5.0
RENEW_EVERY_S = 10.0
#: How long the master may take to answer a fleet or watch request (it answers at once when it runs).
ANSWER_WITHIN_S = 5.0

EventCallback = Callable[[JSONObject], None]

#: Control errors that refuse a submit without ending a request already in flight (docs/control-channel.md#submit):
#: after ``submitted``, they answer a re-send.
RESEND_REFUSALS = frozenset({"bad_request", "not_enrolled", "id_reused"})


def encode(message: Mapping[str, Any]) -> bytes:
    """One frame: compact UTF-8 JSON. Raises ValueError for values JSON cannot carry (NaN, non-string keys...)."""
    try:
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise ValueError(f"cannot encode the message as JSON: {error}") from error


def decode(frame: bytes) -> JSONObject | None:
    """A control message, or None for a frame that is not a JSON object with a string ``type``."""
    try:
        message = json.loads(frame)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return None
    return message


def new_request_id() -> str:
    """``m-`` and a fresh lowercase UUID, like ``decnet-master``'s own requests."""
    return f"m-{uuid.uuid4()}"


def check_timeout(timeout: float) -> float:
    """`timeout` in seconds when it is in (0, 7 days]; ValueError otherwise."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT_S:
        raise ValueError(f"timeout must be more than 0 and at most {MAX_TIMEOUT_S:.0f} s, not {timeout!r}")
    return float(timeout)


@dataclass(frozen=True)
class Endpoint:
    """Where the master serving a directory listens: ``ipc://DIR/control.ipc`` with DIR made absolute."""

    directory: str
    path: str

    @property
    def address(self) -> str:
        return f"ipc://{self.path}"

    @staticmethod
    def of(master_dir: str | os.PathLike[str]) -> Endpoint:
        """The endpoint of `master_dir`; ValueError when its socket path is too long for a unix socket."""
        directory = os.path.abspath(os.fspath(master_dir))
        path = os.path.join(directory, CONTROL_FILE)
        if len(os.fsencode(path)) > SUN_PATH_MAX:
            raise ValueError(f"{path} is longer than {SUN_PATH_MAX} bytes, the limit of a unix socket path")
        return Endpoint(directory, path)

    def check_directory(self) -> None:
        """Raises NotServingError unless the master's directory exists and this process may enter it."""
        try:
            mode = os.stat(self.directory).st_mode
        except FileNotFoundError:
            raise NotServingError(f"{self.directory} does not exist: no master serves it") from None
        except PermissionError:
            raise NotServingError(
                f"cannot enter {self.directory}: permission denied (run as the master's user)"
            ) from None
        if not stat.S_ISDIR(mode):
            raise NotServingError(f"{self.directory} is not a directory: no master serves it")

    def check(self) -> None:
        """Raises NotServingError unless a process accepts connections on the control socket now.

        A non-blocking connect on a unix socket answers at once: ENOENT (no master, or a wrong directory),
        ECONNREFUSED (a socket left by a master that died), EACCES (another user's master).
        """
        self.check_directory()
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.setblocking(False)
        try:
            code = probe.connect_ex(self.path)
        finally:
            probe.close()
        if code in (0, errno.EAGAIN, errno.EINPROGRESS):  # EAGAIN: the listen backlog is full, but it listens
            return
        hint = f"start one with: decnet-master serve --dir {self.directory}"
        reasons = {
            errno.ENOENT: f"no master serves {self.directory} (there is no {CONTROL_FILE}; {hint})",
            errno.ECONNREFUSED: f"no master serves {self.directory}: {CONTROL_FILE} is left over from a master "
            f"that stopped without cleaning up ({hint})",
            errno.EACCES: f"cannot use {self.path}: permission denied (only the master's user may connect)",
            errno.ENOTSOCK: f"{self.path} is not a socket",
        }
        raise NotServingError(reasons.get(code, f"cannot connect to {self.path}: {os.strerror(code)}"))


def _text(error: JSONObject, default: str) -> str:
    """``error.message`` when it is a string (for people only: nothing decides on it)."""
    text = error.get("message")
    return text if isinstance(text, str) else default


def control_error(message: JSONObject, agent_id: str | None) -> FleetError:
    """The exception for a ``control_error`` (docs/control-channel.md#errors)."""
    error = message.get("error")
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        return ProtocolError(f"control_error without an error code: {json.dumps(message)[:200]}")
    request_id = message.get("id") if isinstance(message.get("id"), str) else None
    text = _text(error, "refused")
    sent = error.get("sent")
    details = {"sent": sent} if isinstance(sent, bool) else None
    if error["code"] == "timeout" and sent is True:
        return OutcomePendingError(
            f"{text}; submit again with the same request_id to fetch the result",
            origin="master",
            request_id=request_id,
            agent_id=agent_id,
            details=details,
        )
    return error_for(
        error["code"], text, origin="master", request_id=request_id, agent_id=agent_id, details=details
    )


def result_body(envelope: JSONObject, agent_id: str) -> JSONObject:
    """The body of a successful ``result`` (status 200); the agent's error raised otherwise."""
    request_id = envelope.get("id") if isinstance(envelope.get("id"), str) else None
    status = envelope.get("status")
    if status == 200 and isinstance(envelope.get("body"), dict):
        body: JSONObject = envelope["body"]
        return body
    error = envelope.get("error")
    if not isinstance(status, int) or not isinstance(error, dict) or not isinstance(error.get("code"), str):
        raise ProtocolError(
            f"result without a body or an error code: {json.dumps(envelope)[:200]}",
            request_id=request_id,
            agent_id=agent_id,
        )
    details = error.get("details")
    raise error_for(
        error["code"],
        _text(error, "failed"),
        status=status,
        origin="agent",
        request_id=request_id,
        agent_id=agent_id,
        details=details if isinstance(details, dict) else None,
    )


class SubmitExchange:
    """One wire request submitted for one agent, with one deadline that re-sends never move."""

    def __init__(
        self,
        agent_id: str,
        request: Mapping[str, Any],
        timeout: float,
        now: float,
        *,
        resend_every: float = RESEND_EVERY_S,
        grace: float = GRACE_S,
        desire: bool = False,
    ) -> None:
        if not isinstance(agent_id, str):
            raise TypeError(f"agent_id must be a string, not {type(agent_id).__name__}")
        self.agent_id = agent_id
        # `desire`: the master records the request as the agent's desired state before delivering it
        # (docs/control-channel.md#desire); otherwise a plain `submit`.
        self.kind = "desire" if desire else "submit"
        self.request = dict(request)
        self.request_id: str = self.request["id"]
        self.deadline = now + check_timeout(timeout)
        self.resend_every = resend_every
        self.grace = grace
        self.sends = 0
        self.next_send = now
        self.taken = False  # the master answered `submitted`: the request is (or was) in flight there
        encode(self.request)  # a request JSON cannot carry fails here, before anything is sent

    def message(self, now: float) -> bytes:
        """The submit, asking only for the time left (at least 1 ms)."""
        left_ms = max(1, int((self.deadline - now) * 1000))
        return encode(
            {"proto": 1, "type": self.kind, "agent_id": self.agent_id, "timeout_ms": left_ms, "request": self.request}
        )

    def due(self, now: float) -> bytes | None:
        """The submit to send now: the first one at once, then one every `resend_every` until the deadline."""
        if now < self.next_send or (self.sends > 0 and now >= self.deadline):
            return None
        self.sends += 1
        self.next_send = now + self.resend_every
        return self.message(now)

    def wait(self, now: float) -> float:
        """Seconds until something is due (a re-send, or the end of the wait)."""
        until = self.deadline + self.grace
        if now < self.deadline:
            until = min(until, self.next_send)
        return max(0.0, until - now)

    def expired(self, now: float) -> bool:
        return now >= self.deadline + self.grace

    def pending(self) -> OutcomePendingError:
        """The error when the master gave no verdict by the deadline plus the grace."""
        return OutcomePendingError(
            f"no verdict from the master within the deadline plus {self.grace:.0f} s; the request may still be "
            f"pending there: submit again with request_id={self.request_id!r} to fetch the result",
            request_id=self.request_id,
            agent_id=self.agent_id,
        )

    def handle(self, message: JSONObject, on_event: EventCallback | None) -> JSONObject | None:
        """The result body when `message` finishes the request, None when it does not; raises its error.

        `on_event` sees ``submitted`` and the agent's ``accepted`` and ``progress`` (as their control messages).
        A ``control_error`` with ``id`` null answers this socket's submit, which carries nothing else.

        Once the master took the request, a refusal (:data:`RESEND_REFUSALS`) can only answer a re-send, and says
        nothing of the request in flight: its key removed, the agent may still run it, and the master ends it
        with ``revoked`` or ``timeout``. So it is passed to `on_event` and the wait goes on.
        """
        kind = message.get("type")
        if kind == "control_error" and message.get("id") in (self.request_id, None):
            code = message.get("error", {}).get("code") if isinstance(message.get("error"), dict) else None
            if not (self.taken and code in RESEND_REFUSALS):
                raise control_error(message, self.agent_id)
            if on_event is not None:
                on_event(message)
            return None
        if message.get("id") != self.request_id:
            return None
        if kind == "submitted":
            self.taken = True
        if kind == "answer":
            inner = message.get("message")
            if not isinstance(inner, dict):
                raise ProtocolError("answer without a message", request_id=self.request_id, agent_id=self.agent_id)
            if inner.get("type") == "result":
                return result_body(inner, self.agent_id)
        if kind in ("submitted", "answer") and on_event is not None:
            on_event(message)
        return None


def fleet_request() -> bytes:
    return encode({"proto": 1, "type": "fleet"})


def fleet_reply(message: JSONObject) -> FleetSnapshot | None:
    """The snapshot in `message`, None for anything else; raises a ``control_error``."""
    if message.get("type") == "control_error":
        raise control_error(message, None)
    if message.get("type") == "fleet":
        return FleetSnapshot.parse(message)
    return None


def desired_request(agent_id: str | None) -> bytes:
    """``desired`` for one agent, or for every agent the master knows (docs/control-channel.md#desired)."""
    if agent_id is not None and not isinstance(agent_id, str):
        raise TypeError(f"agent_id must be a string, not {type(agent_id).__name__}")
    return encode({"proto": 1, "type": "desired", **({} if agent_id is None else {"agent_id": agent_id})})


def desired_reply(message: JSONObject) -> list[DesiredView] | None:
    """The agents of a ``desired`` answer, None for any other message; raises a ``control_error``."""
    if message.get("type") == "control_error":
        raise control_error(message, None)
    if message.get("type") != "desired":
        return None
    checked(message.get("now"), int, "now")
    agents = checked(message.get("agents"), list, "agents")
    return [DesiredView.parse(value, index) for index, value in enumerate(agents)]


#: ``requests`` lists 20 unless told otherwise; the master clamps any limit into 1...1000
#: (docs/control-channel.md#request).
REQUESTS_LIMIT = 20


def _string(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    return value


def request_lookup(agent_id: str, request_id: str) -> bytes:
    """``request``: what the master's store knows of one request of one agent."""
    return encode({"proto": 1, "type": "request", "agent_id": _string(agent_id, "agent_id"),
                   "id": _string(request_id, "request_id")})


def requests_lookup(agent_id: str, limit: int) -> bytes:
    """``requests``: the agent's most recent requests, newest first, at most `limit` (clamped by the master)."""
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"limit must be an integer, not {type(limit).__name__}")
    return encode({"proto": 1, "type": "requests", "agent_id": _string(agent_id, "agent_id"), "limit": limit})


def request_reply(message: JSONObject, agent_id: str | None = None) -> RequestRecord | None:
    """The record of a ``request`` answer, None for any other message; raises a ``control_error``
    (:class:`UnknownRequestError` for an id the store does not hold)."""
    if message.get("type") == "control_error":
        raise control_error(message, agent_id)
    if message.get("type") != "request":
        return None
    return RequestRecord.parse(message.get("request"), "request")


def requests_reply(message: JSONObject, agent_id: str | None = None) -> list[RequestRecord] | None:
    """The records of a ``requests`` answer, newest first, None for any other message; raises a ``control_error``."""
    if message.get("type") == "control_error":
        raise control_error(message, agent_id)
    if message.get("type") != "requests":
        return None
    items = checked(message.get("requests"), list, "requests")
    return [RequestRecord.parse(value, f"requests[{index}]") for index, value in enumerate(items)]


def no_answer(endpoint: Endpoint, what: str) -> FleetError:
    """The error when the master does not answer in time: NotServingError when nothing listens any more."""
    try:
        endpoint.check()
    except NotServingError as error:
        return error
    return DeadlineExceededError(
        f"no {what} from the master serving {endpoint.directory} within {ANSWER_WITHIN_S:.0f} s",
    )


class WatchSchedule:
    """A watch: renewed every 10 s; every renewal is answered with a snapshot at once, so a master that does not
    answer within 5 s is gone (docs/control-channel.md#watch)."""

    def __init__(self, now: float, *, renew_every: float = RENEW_EVERY_S, answer_within: float = ANSWER_WITHIN_S):
        self.renew_every = renew_every
        self.answer_within = answer_within
        self.next_renew = now
        self.answer_by: float | None = None
        self.previous: FleetSnapshot | None = None

    def due(self, now: float) -> bytes | None:
        if now < self.next_renew:
            return None
        self.next_renew = now + self.renew_every
        if self.answer_by is None:
            self.answer_by = now + self.answer_within
        return encode({"proto": 1, "type": "watch"})

    def wait(self, now: float) -> float:
        until = self.next_renew if self.answer_by is None else min(self.next_renew, self.answer_by)
        return max(0.0, until - now)

    def overdue(self, now: float) -> bool:
        return self.answer_by is not None and now >= self.answer_by

    def handle(self, message: JSONObject) -> list[FleetEvent]:
        snapshot = fleet_reply(message)
        if snapshot is None:
            return []
        self.answer_by = None
        events = changes(self.previous, snapshot)
        self.previous = snapshot
        return events
