"""AsyncFleetClient: the asyncio client (zmq.asyncio), with the same calls, waits and errors as FleetClient."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, cast

import zmq
import zmq.asyncio

from .client import T, _ms, apply_request, open_dealer, teardown_request, wire_request
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
    no_answer,
    request_lookup,
    request_reply,
    requests_lookup,
    requests_reply,
)
from .desired import DesiredView
from .records import RequestRecord
from .fleet import AgentView, FleetEvent, FleetSnapshot, JSONObject


class AsyncFleetClient:
    """The asyncio form of :class:`FleetClient`. Each call has a socket of its own, so calls may run concurrently
    (``asyncio.gather``) on one client. Use it as an async context manager, or call :meth:`close`."""

    def __init__(self, master_dir: str | os.PathLike[str]) -> None:
        self.endpoint = Endpoint.of(master_dir)
        self.endpoint.check_directory()
        self._context = zmq.asyncio.Context()

    def close(self) -> None:
        """Closes the client's ZeroMQ context, and with it the socket of a watch that was not run to its end."""
        self._context.destroy(linger=0)

    async def __aenter__(self) -> AsyncFleetClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def _dealer(self) -> zmq.asyncio.Socket:
        # An asyncio context makes asyncio sockets; the options are the blocking client's.
        return cast(zmq.asyncio.Socket, open_dealer(self._context, self.endpoint))

    async def apply_topology(
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
        """See :meth:`FleetClient.apply_topology`."""
        request = apply_request(hydrated, version_hash, supersede, request_id)
        return await self.submit(agent_id, request, timeout=timeout, on_event=on_event, desire=desire)

    async def teardown_topology(
        self,
        agent_id: str,
        topology_id: str,
        *,
        desire: bool = True,
        timeout: float = 600.0,
        request_id: str | None = None,
        on_event: EventCallback | None = None,
    ) -> JSONObject:
        """See :meth:`FleetClient.teardown_topology`."""
        request = teardown_request(topology_id, request_id)
        return await self.submit(agent_id, request, timeout=timeout, on_event=on_event, desire=desire)

    async def get_topology_state(
        self, agent_id: str, *, timeout: float = 60.0, request_id: str | None = None
    ) -> JSONObject:
        """See :meth:`FleetClient.get_topology_state`."""
        return await self.submit(agent_id, wire_request("state", request_id), timeout=timeout)

    async def ping(self, agent_id: str, *, timeout: float = 60.0) -> JSONObject:
        """See :meth:`FleetClient.ping`."""
        return await self.submit(agent_id, wire_request("ping", None), timeout=timeout)

    async def submit(
        self,
        agent_id: str,
        request: Mapping[str, Any],
        *,
        timeout: float,
        on_event: EventCallback | None = None,
        desire: bool = False,
    ) -> JSONObject:
        """See :meth:`FleetClient.submit`."""
        exchange = SubmitExchange(agent_id, request, timeout, time.monotonic(), desire=desire)
        self.endpoint.check()
        dealer = self._dealer()
        try:
            while True:
                now = time.monotonic()
                if exchange.expired(now):
                    raise exchange.pending()
                frame = exchange.due(now)
                if frame is not None:
                    await _send(dealer, frame)
                if await dealer.poll(_ms(exchange.wait(time.monotonic()))):
                    message = decode(await dealer.recv())
                    if message is not None:
                        body = exchange.handle(message, on_event)
                        if body is not None:
                            return body
        finally:
            dealer.close(0)

    async def fleet(self, *, timeout: float = ANSWER_WITHIN_S) -> FleetSnapshot:
        """See :meth:`FleetClient.fleet`."""
        return await self._ask(fleet_request(), fleet_reply, "fleet snapshot", timeout)

    async def desired(self, agent_id: str | None = None, *, timeout: float = ANSWER_WITHIN_S) -> list[DesiredView]:
        """See :meth:`FleetClient.desired`."""
        return await self._ask(desired_request(agent_id), desired_reply, "desired answer", timeout)

    async def request(
        self, agent_id: str, request_id: str, *, timeout: float = ANSWER_WITHIN_S
    ) -> RequestRecord:
        """See :meth:`FleetClient.request`."""
        return await self._ask(
            request_lookup(agent_id, request_id), lambda m: request_reply(m, agent_id), "request answer", timeout
        )

    async def requests(
        self, agent_id: str, limit: int = REQUESTS_LIMIT, *, timeout: float = ANSWER_WITHIN_S
    ) -> list[RequestRecord]:
        """See :meth:`FleetClient.requests`."""
        return await self._ask(
            requests_lookup(agent_id, limit), lambda m: requests_reply(m, agent_id), "requests answer", timeout
        )

    async def _ask(self, frame: bytes, reply: Callable[[JSONObject], T | None], what: str, timeout: float) -> T:
        """See :meth:`FleetClient._ask`."""
        self.endpoint.check()
        dealer = self._dealer()
        try:
            await _send(dealer, frame)
            deadline = time.monotonic() + timeout
            while await dealer.poll(_ms(deadline - time.monotonic())):
                message = decode(await dealer.recv())
                answer = None if message is None else reply(message)
                if answer is not None:
                    return answer
            raise no_answer(self.endpoint, what)
        finally:
            dealer.close(0)

    async def agents(self, *, timeout: float = ANSWER_WITHIN_S) -> list[AgentView]:
        """See :meth:`FleetClient.agents`."""
        return list((await self.fleet(timeout=timeout)).agents)

    async def watch(self) -> AsyncIterator[FleetEvent]:
        """See :meth:`FleetClient.watch`."""
        self.endpoint.check()
        dealer = self._dealer()
        try:
            schedule = WatchSchedule(time.monotonic())
            while True:
                now = time.monotonic()
                if schedule.overdue(now):
                    raise no_answer(self.endpoint, "watch snapshot")
                frame = schedule.due(now)
                if frame is not None:
                    await _send(dealer, frame)
                if await dealer.poll(_ms(schedule.wait(time.monotonic()))):
                    message = decode(await dealer.recv())
                    if message is not None:
                        for event in schedule.handle(message):
                            yield event
        finally:
            dealer.close(0)


async def _send(dealer: zmq.asyncio.Socket, frame: bytes) -> None:
    """Queues one frame without blocking; a full queue skips this (re-sent) copy."""
    try:
        await dealer.send(frame, zmq.NOBLOCK)
    except zmq.Again:
        pass
