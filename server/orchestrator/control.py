"""Control RPC plumbing shared by the orchestrator and map processes (seed 004,
"Minimum Control RPC Contract Surface"), free of the database stack.

A map process imports this module (never :mod:`.rpc`, whose orchestrator routes pull in the
ledger and SQLAlchemy): the guard (loopback + ``X-Internal-Secret``), the error -> status
mapping, the map's ``/control/*`` app, the uvicorn factory that refuses non-loopback
binds, and :class:`ControlClient`.

Errors -> status: TokenDenied 403 (``reason`` + ``rebootstrap``), TransferError 409,
MapUnavailable 503 (+ ``Retry-After``), bad body 422; Forbidden 403 ``{"error":
"forbidden", "reason": "NOT_LOOPBACK" | "BAD_SECRET"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import math
from collections.abc import Awaitable, Callable, Generator
from typing import Annotated, Any, Protocol

import httpx
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from .mapconfig import MapConfig
from .settings import is_loopback
from .supervisor import MapUnavailable
from .tokens import TokenDenied
from .transfers import TransferError

SECRET_HEADER = "X-Internal-Secret"


class Forbidden(Exception):  # noqa: N818 - an HTTP refusal
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def internal_guard(secret: str) -> Callable[..., Awaitable[None]]:
    """A dependency: loopback client and the right ``X-Internal-Secret``, else 403."""
    expected = secret.encode()

    async def guard(request: Request,
                    x_internal_secret: Annotated[str | None, Header()] = None) -> None:
        host = request.client.host if request.client is not None else ""
        if not is_loopback(host):
            raise Forbidden("NOT_LOOPBACK")
        if x_internal_secret is None or not hmac.compare_digest(
                x_internal_secret.encode(), expected):
            raise Forbidden("BAD_SECRET")

    return guard


def install_error_handlers(app: FastAPI) -> None:
    """403/409/503 JSON answers for the structured refusals (module docstring)."""
    async def forbidden(_: Request, e: Exception) -> JSONResponse:
        assert isinstance(e, Forbidden)
        return JSONResponse({"error": "forbidden", "reason": e.reason}, status_code=403)

    async def denied(_: Request, e: Exception) -> JSONResponse:
        assert isinstance(e, TokenDenied)
        return JSONResponse(e.to_json(), status_code=403)

    async def refused(_: Request, e: Exception) -> JSONResponse:
        assert isinstance(e, TransferError)
        return JSONResponse(e.to_json(), status_code=409)

    async def unavailable(_: Request, e: Exception) -> JSONResponse:
        assert isinstance(e, MapUnavailable)
        return JSONResponse(e.to_json(), status_code=503,
                            headers={"Retry-After": str(math.ceil(e.retry_after_ms / 1000))})

    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(TokenDenied, denied)
    app.add_exception_handler(TransferError, refused)
    app.add_exception_handler(MapUnavailable, unavailable)


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def out(**kw: Any) -> dict[str, Any]:
    """camelCase keys for a response."""
    return {to_camel(k): v for k, v in kw.items()}


# --- map process -----------------------------------------------------------------------


class JoinNotice(Body):
    """An issued JoinTicket announced to its map (reserve a spawn)."""

    join_id: str
    character_key: str
    character_id: int | None = None
    expires_at_ms: int


class TransferNotice(Body):
    """An incoming transfer announced to the destination (load state, reserve spawn)."""

    transfer_id: str
    character_key: str
    character_id: int | None = None
    from_map_id: str
    expires_at_ms: int


class StopIn(Body):
    instance_id: str


class AckCompleteIn(Body):
    transfer_id: str
    epoch: int


class ReleaseIn(Body):
    transfer_id: str
    character_key: str


class MapControl(Protocol):
    """What a map process does for the orchestrator (implemented by the map runtime)."""

    async def start_instance(self, config: MapConfig) -> dict[str, Any]: ...
    async def stop_instance(self, instance_id: str) -> dict[str, Any]: ...
    async def validate_join_ticket(self, notice: JoinNotice) -> dict[str, Any]: ...
    async def prepare_incoming_transfer(self, notice: TransferNotice) -> dict[str, Any]: ...
    async def ack_transfer_complete(self, transfer_id: str, epoch: int) -> dict[str, Any]: ...
    async def release_character(self, transfer_id: str, character_key: str) -> dict[str, Any]: ...
    async def health(self) -> dict[str, Any]: ...


def create_map_control_app(handler: MapControl, secret: str) -> FastAPI:
    """A map process's ``/control/*`` routes and ``GET /health`` (loopback + secret)."""
    app = FastAPI(title="planet map control", dependencies=[Depends(internal_guard(secret))])
    install_error_handlers(app)
    r = APIRouter(prefix="/control")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return await handler.health()

    @r.post("/start-instance")
    async def start_instance(config: MapConfig) -> dict[str, Any]:
        return await handler.start_instance(config)

    @r.post("/stop-instance")
    async def stop_instance(body: StopIn) -> dict[str, Any]:
        return await handler.stop_instance(body.instance_id)

    @r.post("/validate-join-ticket")
    async def validate_join_ticket(body: JoinNotice) -> dict[str, Any]:
        return await handler.validate_join_ticket(body)

    @r.post("/prepare-incoming-transfer")
    async def prepare_incoming_transfer(body: TransferNotice) -> dict[str, Any]:
        return await handler.prepare_incoming_transfer(body)

    @r.post("/ack-transfer-complete")
    async def ack_transfer_complete(body: AckCompleteIn) -> dict[str, Any]:
        return await handler.ack_transfer_complete(body.transfer_id, body.epoch)

    @r.post("/release-character")
    async def release_character(body: ReleaseIn) -> dict[str, Any]:
        return await handler.release_character(body.transfer_id, body.character_key)

    app.include_router(r)
    return app


# --- transport helpers -----------------------------------------------------------------


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server run inside our own event loop: it leaves signal handling to the
    process (uvicorn would otherwise take SIGINT/SIGTERM for itself)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    @property
    def port(self) -> int:
        """The bound port (after ``started``)."""
        return int(self.servers[0].sockets[0].getsockname()[1])

    async def start(self, timeout_s: float = 10.0) -> asyncio.Task[None]:
        """Serve in a background task; returns it once the socket listens.

        Raises:
            OSError: the address cannot be bound.
        """
        task = asyncio.create_task(self.serve())
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not self.started:
            if task.done():
                task.result()
                raise OSError("control server exited before it started")
            if asyncio.get_running_loop().time() > deadline:
                raise OSError("control server did not start")
            await asyncio.sleep(0.01)
        return task


def public_server(app: FastAPI, host: str, port: int) -> EmbeddedServer:
    """A uvicorn server for the public bootstrap app (any host)."""
    return EmbeddedServer(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                         access_log=False, lifespan="off"))


def control_server(app: FastAPI, host: str, port: int) -> EmbeddedServer:
    """A uvicorn server for a control app; refuses a non-loopback ``host``.

    Raises:
        ValueError: ``host`` is not a loopback address.
    """
    if not is_loopback(host):
        raise ValueError(f"control RPC must bind to loopback, not {host!r}")
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            lifespan="off")
    return EmbeddedServer(config)


class ControlClient:
    """JSON POSTs to a control app with the secret header (httpx, keep-alive)."""

    def __init__(self, base_url: str, secret: str, *, timeout_s: float = 2.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout_s,
                                         headers={SECRET_HEADER: secret}, transport=transport)

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self._client.post(path, json=body)

    async def get(self, path: str) -> httpx.Response:
        return await self._client.get(path)

    async def aclose(self) -> None:
        await self._client.aclose()
