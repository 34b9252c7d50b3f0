"""FleetClient: the blocking client of a running ``decnet-master serve`` (docs/control-channel.md)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import zmq

from .exchange import (
    ANSWER_WITHIN_S,
    Endpoint,
    EventCallback,
    SubmitExchange,
    WatchSchedule,
    decode,
    REQUESTS_LIMIT,
    desired_reply,
    desired_request,
    fleet_reply,
    fleet_request,
    new_request_id,
    no_answer,
    request_lookup,
    request_reply,
    requests_lookup,
    requests_reply,
)
from .desired import DesiredView
from .records import RequestRecord
from .fleet import AgentView, FleetEvent, FleetSnapshot, JSONObject

T = TypeVar("T")


def open_dealer(context: zmq.Context[Any], endpoint: Endpoint) -> zmq.Socket[Any]:
    """A DEALER on the control socket: linger 0, reconnecting by itself (100 ms backing off to 1 s)."""
    dealer: zmq.Socket[Any] = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.setsockopt(zmq.RECONNECT_IVL, 100)
    dealer.setsockopt(zmq.RECONNECT_IVL_MAX, 1000)
    dealer.connect(endpoint.address)
    return dealer


def wire_request(kind: str, request_id: str | None, **members: Any) -> dict[str, Any]:
    """A wire request envelope (docs/wire-protocol.md#requests) with a fresh id unless one is given."""
    return {"proto": 1, "type": kind, "id": new_request_id() if request_id is None else request_id, **members}


def apply_request(
    hydrated: Mapping[str, Any], version_hash: str, supersede: bool, request_id: str | None
) -> dict[str, Any]:
    if not isinstance(hydrated, Mapping):
        raise TypeError(f"hydrated must be a JSON object (a mapping), not {type(hydrated).__name__}")
    if not isinstance(version_hash, str):
        raise TypeError(f"version_hash must be a string, not {type(version_hash).__name__}")
    # supersede is always sent, so that a re-run with the same id has the same content (docs/wire-protocol.md).
    return wire_request("apply", request_id, hydrated=dict(hydrated), version_hash=version_hash, supersede=supersede)


def teardown_request(topology_id: str, request_id: str | None) -> dict[str, Any]:
    if not isinstance(topology_id, str):
        raise TypeError(f"topology_id must be a string, not {type(topology_id).__name__}")
    return wire_request("teardown", request_id, topology_id=topology_id)


class FleetClient:
    """Talks to the master serving `master_dir` over ``ipc://DIR/control.ipc``.

    Each call opens its own socket and closes it when done, so one client may be shared by threads. Every wait is
    bounded: a submit by its `timeout` plus 5 s, a fleet request by 5 s, each step of a watch by 15 s. Use it as a
    context manager, or call :meth:`close`.
    """

    def __init__(self, master_dir: str | os.PathLike[str]) -> None:
        self.endpoint = Endpoint.of(master_dir)
        self.endpoint.check_directory()
        self._context: zmq.Context[Any] = zmq.Context()

    def close(self) -> None:
        """Closes the client's ZeroMQ context, and with it the socket of a watch that was not run to its end."""
        self._context.destroy(linger=0)

    def __enter__(self) -> FleetClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests for one agent

    def apply_topology(
        self,
        agent_id: str,
        hydrated: Mapping[str, Any],
        version_hash: str,
        *,
        supersede: bool = False,
        desire: bool = True,
        timeout: float = 600.0,
        request_id: str | None = None,
        on_event: EventCallback | None = None,
    ) -> JSONObject:
        """Applies a hydrated topology on the agent; returns ``{"status": "applied", "version_hash": ...}``.

        With `desire` (the default) the master first records the topology as the agent's desired state and from
        then on keeps the agent on it (docs/control-channel.md#desire, #reconcile); the hydrated topology must then
        carry ``topology.id``. ``desire=False`` sends a plain submit that the master does not remember.
        Calling it again with the same `request_id` and the same content returns the stored result instead of
        applying again (docs/control-channel.md#resending).
        """
        request = apply_request(hydrated, version_hash, supersede, request_id)
        return self.submit(agent_id, request, timeout=timeout, on_event=on_event, desire=desire)

    def teardown_topology(
        self,
        agent_id: str,
        topology_id: str,
        *,
        desire: bool = True,
        timeout: float = 600.0,
        request_id: str | None = None,
        on_event: EventCallback | None = None,
    ) -> JSONObject:
        """Removes the topology from the agent; returns ``{"status": "torn_down", "topology_id", "removed"}``.

        With `desire` (the default) the master first records "none" as the agent's desired state, so a topology it
        applied there is torn down again if it comes back (docs/control-channel.md#desire)."""
        request = teardown_request(topology_id, request_id)
        return self.submit(agent_id, request, timeout=timeout, on_event=on_event, desire=desire)

    def get_topology_state(
        self, agent_id: str, *, timeout: float = 60.0, request_id: str | None = None
    ) -> JSONObject:
        """The agent's state object (docs/wire-protocol.md#state), asked afresh."""
        return self.submit(agent_id, wire_request("state", request_id), timeout=timeout)

    def ping(self, agent_id: str, *, timeout: float = 60.0) -> JSONObject:
        """``{"agent_id", "boot_id", "agent_version"}`` of the running agent."""
        return self.submit(agent_id, wire_request("ping", None), timeout=timeout)

    def submit(
        self,
        agent_id: str,
        request: Mapping[str, Any],
        *,
        timeout: float,
        on_event: EventCallback | None = None,
        desire: bool = False,
    ) -> JSONObject:
        """Submits a wire request (with its ``id``) and waits for the agent's result body. With `desire` (an apply
        or a teardown only) it is sent as a ``desire``: recorded as the agent's desired state first.

        Re-sends the submit every 3 s with the time left; raises the agent's or the master's error, or
        :class:`OutcomePendingError` when no verdict comes by `timeout` plus 5 s.
        """
        exchange = SubmitExchange(agent_id, request, timeout, time.monotonic(), desire=desire)
        self.endpoint.check()
        dealer = open_dealer(self._context, self.endpoint)
        try:
            while True:
                now = time.monotonic()
                if exchange.expired(now):
                    raise exchange.pending()
                frame = exchange.due(now)
                if frame is not None:
                    _send(dealer, frame)
                if dealer.poll(_ms(exchange.wait(time.monotonic()))):
                    message = decode(dealer.recv())
                    if message is not None:
                        body = exchange.handle(message, on_event)
                        if body is not None:
                            return body
        finally:
            dealer.close(0)

    # -- the fleet view

    def fleet(self, *, timeout: float = ANSWER_WITHIN_S) -> FleetSnapshot:
        """One fleet snapshot: the master's agents and counters."""
        return self._ask(fleet_request(), fleet_reply, "fleet snapshot", timeout)

    def desired(self, agent_id: str | None = None, *, timeout: float = ANSWER_WITHIN_S) -> list[DesiredView]:
        """The master's desired state next to what the agents report: for `agent_id`, or for every agent the
        master knows (docs/control-channel.md#desired)."""
        return self._ask(desired_request(agent_id), desired_reply, "desired answer", timeout)

    def request(self, agent_id: str, request_id: str, *, timeout: float = ANSWER_WITHIN_S) -> RequestRecord:
        """What the master's store knows of one apply or teardown of `agent_id`: its status and, once the agent
        answered, its ``result`` verbatim (docs/control-channel.md#request). Nothing is sent to the agent, and the
        answer survives master restarts. Raises :class:`UnknownRequestError` when the store holds no such request."""
        return self._ask(
            request_lookup(agent_id, request_id), lambda m: request_reply(m, agent_id), "request answer", timeout
        )

    def requests(
        self, agent_id: str, limit: int = REQUESTS_LIMIT, *, timeout: float = ANSWER_WITHIN_S
    ) -> list[RequestRecord]:
        """The agent's most recent applies and teardowns (an operator's, plain submits, the reconcile loop's),
        newest first; the master clamps `limit` into 1...1000 (docs/control-channel.md#request)."""
        return self._ask(
            requests_lookup(agent_id, limit), lambda m: requests_reply(m, agent_id), "requests answer", timeout
        )

    def _ask(self, frame: bytes, reply: Callable[[JSONObject], T | None], what: str, timeout: float) -> T:
        """Sends one control message and waits up to `timeout` for the answer `reply` recognises."""
        self.endpoint.check()
        dealer = open_dealer(self._context, self.endpoint)
        try:
            _send(dealer, frame)
            deadline = time.monotonic() + timeout
            while dealer.poll(_ms(deadline - time.monotonic())):
                message = decode(dealer.recv())
                answer = None if message is None else reply(message)
                if answer is not None:
                    return answer
            raise no_answer(self.endpoint, what)
        finally:
            dealer.close(0)

    def agents(self, *, timeout: float = ANSWER_WITHIN_S) -> list[AgentView]:
        """The agents the master heard from since it started, in id order."""
        return list(self.fleet(timeout=timeout).agents)

    def watch(self) -> Iterator[FleetEvent]:
        """Fleet changes and heartbeats as they happen (see :class:`FleetEvent`), until the caller stops.

        The subscription is renewed every 10 s, and each renewal brings a snapshot, so every step returns within
        about 10 s. Raises :class:`NotServingError` or :class:`DeadlineExceededError` when the master stops
        answering for 5 s.
        """
        self.endpoint.check()
        dealer = open_dealer(self._context, self.endpoint)
        try:
            schedule = WatchSchedule(time.monotonic())
            while True:
                now = time.monotonic()
                if schedule.overdue(now):
                    raise no_answer(self.endpoint, "watch snapshot")
                frame = schedule.due(now)
                if frame is not None:
                    _send(dealer, frame)
                if dealer.poll(_ms(schedule.wait(time.monotonic()))):
                    message = decode(dealer.recv())
                    if message is not None:
                        yield from schedule.handle(message)
        finally:
            dealer.close(0)


def _ms(seconds: float) -> int:
    """A poll timeout in whole milliseconds, rounded up so that a wait never ends just before its time."""
    return max(0, int(seconds * 1000) + 1)


def _send(dealer: zmq.Socket[Any], frame: bytes) -> None:
    """Queues one frame without blocking; a full queue skips this (re-sent) copy."""
    try:
        dealer.send(frame, zmq.NOBLOCK)
    except zmq.Again:
        pass
