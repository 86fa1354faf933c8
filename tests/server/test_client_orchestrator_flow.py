"""Python SDK, protocol v3: bootstrap -> JOIN_WITH_TICKET -> TRANSFER_REQUEST -> TRANSFER_TO
-> reconnect, against small fakes (the real orchestrator and map processes are tested in
tests/orchestrator): a FastAPI bootstrap app served by uvicorn and WebSocket map processes
built on ``server.protocol.ServerConnection``, all on 127.0.0.1 with OS-chosen ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

import server.client.client as client_mod
from server.client import (
    ClientError,
    GameClient,
    JoinOffer,
    bootstrap,
    connect_via_orchestrator,
)
from server.protocol import (
    Error,
    ErrorCode,
    Join,
    JoinAccepted,
    JoinWithTicket,
    Message,
    Ping,
    Pong,
    TransferRequest,
    TransferTo,
)
from server.protocol import ServerConnection as ProtocolServer

pytestmark = pytest.mark.timeout(60)

DENY_SUFFIX = "; re-bootstrap: POST /orch/bootstrap"


@dataclass
class FakeMap:
    """A map process: admits JOIN_WITH_TICKET for the tickets in ``tickets`` (single use,
    ticket -> character id, 0 = disposable), refuses JOIN (TICKET_REQUIRED), answers PING,
    and TRANSFER_REQUEST with TRANSFER_TO + GOODBYE 1000 when the target is in ``targets``,
    else ERROR 4103 (``refusals`` gives the reason per map id)."""

    map_id: str
    max_version: int = 3
    tickets: dict[str, int] = field(default_factory=dict)
    targets: dict[str, FakeMap] = field(default_factory=dict)
    refusals: dict[str, str] = field(default_factory=dict)
    received: list[Message] = field(default_factory=list)
    close_codes: list[int] = field(default_factory=list)
    url: str = ""
    server: Server | None = None
    _tokens: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> FakeMap:
        self.server = await serve(self._handle, "127.0.0.1", 0, compression=None)
        port = self.server.sockets[0].getsockname()[1] if self.server.sockets else 0
        self.url = f"ws://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def _answer(self, conn: ProtocolServer, ev: object) -> None:
        if isinstance(ev, Message):
            self.received.append(ev)
        if isinstance(ev, Join):
            conn.send(Error(int(ErrorCode.TICKET_DENIED),
                            "TICKET_REQUIRED: this map process admits JOIN_WITH_TICKET only"
                            + DENY_SUFFIX))
        elif isinstance(ev, JoinWithTicket):
            character = self.tickets.pop(ev.ticket, None)
            if character is None:
                conn.send(Error(int(ErrorCode.TICKET_DENIED),
                                "REPLAYED: ticket already used" + DENY_SUFFIX))
                return
            conn.send(JoinAccepted(7, character, 1, 0, 100, (1000.0, 0.0, 0.0),
                                   (0.0, 0.0, 0.0, 1.0), 4, (5, 0)))
        elif isinstance(ev, Ping):
            conn.send(Pong(ev.nonce, ev.client_time_s, 1.0, 100))
        elif isinstance(ev, TransferRequest):
            target = self.targets.get(ev.to_map_id)
            if target is None:
                conn.send(Error(int(ErrorCode.TRANSFER_REFUSED), self.refusals.get(
                    ev.to_map_id, f"UNKNOWN_MAP: {ev.to_map_id}")))
                return
            token = f"tt.{self.map_id}.{next(self._tokens)}"
            target.tickets[token] = 3
            conn.send(TransferTo(target.map_id, target.url, token, 30000))
            conn.close(int(ErrorCode.NORMAL), f"transferred to {target.map_id}")

    async def _handle(self, ws: ServerConnection) -> None:
        conn = ProtocolServer(max_version=self.max_version)
        try:
            async for data in ws:
                if isinstance(data, str):
                    conn.receive_text(data)
                else:
                    conn.receive_data(data)
                for ev in conn.events_received():
                    self._answer(conn, ev)
                for frame in conn.data_to_send():
                    await ws.send(frame)
                if conn.close_code is not None:
                    self.close_codes.append(conn.close_code)
                    await ws.close(conn.close_code, conn.close_reason[:120])
                    return
        except ConnectionClosed:
            pass


@dataclass
class FakeOrchestrator:
    """``POST /orch/bootstrap``: a ticket for ``home`` (character 3 with a key, else
    disposable), or the canned ``(status, body)`` in ``answer``."""

    home: FakeMap
    answer: tuple[int, dict[str, Any]] | None = None
    requests: list[Any] = field(default_factory=list)
    _tickets: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/orch/bootstrap")
        async def boot(request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append(body)
            if self.answer is not None:
                status, payload = self.answer
                return JSONResponse(payload, status_code=status)
            key = body.get("authKey")
            ticket = f"jt.{next(self._tickets)}~{key or 'anon'}"
            self.home.tickets[ticket] = 3 if key else 0
            return JSONResponse({"ticket": ticket, "mapId": self.home.map_id,
                                 "endpoint": self.home.url, "expiresAtMs": 1_764_000_030_000,
                                 "characterId": 3 if key else None, "disposable": not key})

        return app


@contextlib.asynccontextmanager
async def serve_http(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port); yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@contextlib.asynccontextmanager
async def world(
    refusals: dict[str, str] | None = None,
) -> AsyncIterator[tuple[str, FakeOrchestrator, FakeMap, FakeMap]]:
    """An orchestrator, map ``planet-0`` (home) and map ``planet-1`` (transfer target)."""
    home = await FakeMap("planet-0", refusals=refusals or {}).start()
    other = await FakeMap("planet-1").start()
    home.targets["planet-1"] = other
    orch = FakeOrchestrator(home)
    try:
        async with serve_http(orch.app()) as base:
            yield base, orch, home, other
    finally:
        await home.stop()
        await other.stop()


# ---- bootstrap --------------------------------------------------------------------------


def mock_http(monkeypatch: pytest.MonkeyPatch,
              handler: Callable[[httpx.Request], httpx.Response]) -> None:
    """Route the SDK's httpx.AsyncClient through ``handler`` (no sockets)."""
    real = httpx.AsyncClient

    def factory(**kw: Any) -> httpx.AsyncClient:
        return real(transport=httpx.MockTransport(handler), **kw)

    monkeypatch.setattr(client_mod.httpx, "AsyncClient", factory)


async def test_bootstrap_posts_the_key_and_parses_the_offer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, Any]] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append((str(req.url), json.loads(req.content)))
        return httpx.Response(200, json={
            "ticket": "v1.jt.x~y", "mapId": "planet-0", "endpoint": "ws://127.0.0.1:9",
            "expiresAtMs": 1_764_000_000_123, "characterId": 12, "disposable": False})

    mock_http(monkeypatch, handler)
    offer = await bootstrap("http://orch.test:7777/", "secret")
    assert offer == JoinOffer("v1.jt.x~y", "planet-0", "ws://127.0.0.1:9", 1_764_000_000_123,
                              12, False)
    await bootstrap("http://orch.test:7777")
    await bootstrap("http://orch.test:7777", "")
    assert seen == [("http://orch.test:7777/orch/bootstrap", {"authKey": "secret"}),
                    ("http://orch.test:7777/orch/bootstrap", {"authKey": None}),
                    ("http://orch.test:7777/orch/bootstrap", {"authKey": None})]


@pytest.mark.parametrize(("status", "body", "reason", "retry"), [
    (503, {"error": "map_unavailable", "reason": "planet-0 is restarting",
           "mapId": "planet-0", "retryAfterMs": 1500}, "planet-0 is restarting", 1500),
    (422, {"error": "bad_request", "reason": "authKey must be a string"},
     "authKey must be a string", None),
    (500, None, "oops", None),
])
async def test_bootstrap_errors_carry_status_and_reason(
        monkeypatch: pytest.MonkeyPatch, status: int, body: dict[str, Any] | None, reason: str,
        retry: int | None) -> None:
    mock_http(monkeypatch, lambda req: (httpx.Response(status, json=body) if body is not None
                                        else httpx.Response(status, text="oops")))
    with pytest.raises(ClientError) as e:
        await bootstrap("http://orch.test", "k")
    assert e.value.code == status and e.value.reason == reason
    assert e.value.retry_after_ms == retry


@pytest.mark.parametrize("body", [{"ticket": "t"}, [], {"ticket": 5, "mapId": "m",
                                  "endpoint": "ws://h:1", "expiresAtMs": 1}])
async def test_bootstrap_malformed_answer(monkeypatch: pytest.MonkeyPatch,
                                          body: Any) -> None:
    mock_http(monkeypatch, lambda req: httpx.Response(200, json=body))
    with pytest.raises(ClientError, match="malformed"):
        await bootstrap("http://orch.test")


async def test_bootstrap_unreachable_is_a_transport_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(httpx.TransportError):
        await bootstrap(f"http://127.0.0.1:{port}", timeout=2.0)


# ---- join, transfer, reconnect -----------------------------------------------------------


async def test_full_flow_bootstrap_join_refused_transfer_transfer_reconnect() -> None:
    async with world({"planet-9": "QUARANTINED: planet-9 (retry after 52000 ms)"}) as (
            base, orch, home, other):
        client, joined = await connect_via_orchestrator(base, "secret", "sdk-test",
                                                        display_name="Ada")
        try:
            assert orch.requests == [{"authKey": "secret"}]
            assert client.join_offer is not None and client.join_offer.map_id == "planet-0"
            assert client.join_offer.character_id == 3 and not client.join_offer.disposable
            assert joined.character_id == 3 and client.joined is joined
            assert client.welcome is not None and client.welcome.version == 3
            (jwt,) = [m for m in home.received if isinstance(m, JoinWithTicket)]
            assert jwt.ticket.startswith("jt.") and jwt.display_name == "Ada"

            # a refusal is a notice: ClientError 4103 with the reason, session still usable
            with pytest.raises(ClientError) as e:
                await client.request_transfer("planet-9")
            assert e.value.code == ErrorCode.TRANSFER_REFUSED == 4103
            assert e.value.reason == "QUARANTINED: planet-9 (retry after 52000 ms)"
            assert not client.closed and client.transfer_order is None
            assert [er.code for er in client.errors] == [4103]
            assert await client.ping() > 0

            order = await client.request_transfer("planet-1")
            assert client.transfer_order is order
            assert order.to_map_id == "planet-1" and order.endpoint == other.url
            assert order.expires_in_ms == 30000
            await client.wait_for(lambda: client.closed, 5)
            assert client.close_code == 1000
            assert client.close_reason == "transferred to planet-1"

            new, joined2 = await client.follow_transfer(order)
        finally:
            await client.close()
        try:
            assert joined2.character_id == 3 and new.joined is joined2 and not new.closed
            assert new.name == "sdk-test" and new.display_name == "Ada"
            (jwt2,) = [m for m in other.received if isinstance(m, JoinWithTicket)]
            assert jwt2 == JoinWithTicket(order.token, "Ada")
            assert await new.ping() > 0
        finally:
            await new.close()


async def test_follow_transfer_closes_a_session_still_open() -> None:
    async with world() as (base, _, home, other):
        client, _ = await connect_via_orchestrator(base, None)
        other.tickets["tt.manual"] = 0
        order = TransferTo("planet-1", other.url, "tt.manual", 1000)
        new, joined = await client.follow_transfer(order, display_name="Bo")
        try:
            assert client.closed and client.close_code == 1000
            assert joined.character_id == 0
            assert JoinWithTicket("tt.manual", "Bo") in other.received
            await asyncio.sleep(0.1)
            assert home.close_codes == [1000]  # the client said GOODBYE 1000
        finally:
            await new.close()


async def test_denied_ticket_is_client_error_4010() -> None:
    async with world() as (_b, _, home, _o):
        client = await GameClient.connect(home.url)
        with pytest.raises(ClientError) as e:
            await client.join_with_ticket("never-issued", "x")
        assert e.value.code == ErrorCode.TICKET_DENIED == 4010
        assert e.value.reason.startswith("REPLAYED: ") and e.value.reason.endswith(DENY_SUFFIX)
        assert client.closed and client.close_code == 4010
        assert [er.code for er in client.errors] == [4010]
        await client.close()
        # a JOIN on a map process: TICKET_REQUIRED, also 4010
        client = await GameClient.connect(home.url)
        with pytest.raises(ClientError) as e:
            await client.join("key", "x")
        assert e.value.code == 4010 and e.value.reason.startswith("TICKET_REQUIRED: ")
        await client.close()
        # a transfer token used twice (the first join consumed it)
        home.tickets["once"] = 0
        first = await GameClient.connect(home.url)
        await first.join_with_ticket("once")
        second = await GameClient.connect(home.url)
        with pytest.raises(ClientError) as e:
            await second.follow_transfer(TransferTo("planet-0", home.url, "once", 5))
        assert e.value.code == 4010
        await first.close()


async def test_version_below_3_cannot_use_tickets_or_transfers() -> None:
    async with world() as (_b, _, home, _o):
        old = await GameClient.connect(home.url, max_version=2)
        with pytest.raises(ClientError) as e:
            await old.join_with_ticket("whatever")
        assert e.value.code == ErrorCode.UNSUPPORTED_VERSION
        await old.close()
        assert not any(isinstance(m, JoinWithTicket) for m in home.received)
    # a map server that speaks only version 2: the pipelined ticket is refused with 4002
    v2 = await FakeMap("planet-0", max_version=2).start()
    try:
        v2.tickets["t"] = 0
        client = await GameClient.connect(v2.url)
        with pytest.raises(ClientError) as e:
            await client.join_with_ticket("t")
        assert e.value.code == ErrorCode.UNEXPECTED_MESSAGE
        assert "JOIN_WITH_TICKET needs protocol version 3" in e.value.reason
        await client.close()
        # after a WELCOME of version 2 the SDK refuses locally, without sending
        client = await GameClient.connect(v2.url)
        await client.wait_for(lambda: client.welcome is not None, 5)
        with pytest.raises(ClientError) as e:
            await client.join_with_ticket("t")
        assert e.value.code == ErrorCode.UNSUPPORTED_VERSION and not client.closed
        await client.close()
    finally:
        await v2.stop()


async def test_bad_arguments_are_value_errors_before_sending() -> None:
    async with world() as (base, _, _h, _o):
        client, _ = await connect_via_orchestrator(base, "k")
        try:
            with pytest.raises(ValueError):
                await client.request_transfer("Planet_1")
            with pytest.raises(ValueError):
                await client.join_with_ticket("has space")
            assert not client.closed and await client.ping() > 0
        finally:
            await client.close()
