"""Control RPC (seed 004, "Minimum Control RPC Contract Surface"): loopback HTTP JSON.

Three FastAPI apps:

* :func:`create_public_app` -- the client-facing entry, ``POST /orch/bootstrap``
  (served on the public game port; no secret, the client has none).
* :func:`create_control_app` -- the orchestrator's internal routes ``/orch/*`` and
  ``GET /health`` (map processes call these).
* :func:`create_map_control_app` -- a map process's ``/control/*`` and ``GET /health``
  (the orchestrator calls these).

Every internal route requires the ``X-Internal-Secret`` header (constant-time compare)
and a loopback client (127.0.0.0/8 or ::1); otherwise 403 ``{"error": "forbidden",
"reason": "NOT_LOOPBACK" | "BAD_SECRET"}``. :func:`control_server` refuses to bind a
non-loopback address. Bodies are camelCase JSON (docs/orchestrator.md lists them).

Errors -> status: TokenDenied 403 (``reason`` + ``rebootstrap``), TransferError 409,
MapUnavailable 503 (+ ``Retry-After``), LedgerError 409, bad body 422.
"""

from __future__ import annotations

import base64
import hmac
import math
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Protocol

import httpx
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from .core import Orchestrator
from .ledger import CriticalEventIn, InventoryOp, LedgerError
from .mapconfig import MapConfig
from .settings import is_loopback
from .supervisor import MapUnavailable
from .tokens import TokenDenied
from .transfers import Fallback, Lease, TransferError

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


def _install_error_handlers(app: FastAPI) -> None:
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

    async def ledger_error(_: Request, e: Exception) -> JSONResponse:
        return JSONResponse({"error": "ledger_refused", "reason": type(e).__name__,
                             "detail": str(e)}, status_code=409)

    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(TokenDenied, denied)
    app.add_exception_handler(TransferError, refused)
    app.add_exception_handler(MapUnavailable, unavailable)
    app.add_exception_handler(LedgerError, ledger_error)


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def _out(**kw: Any) -> dict[str, Any]:
    """camelCase keys for a response."""
    return {to_camel(k): v for k, v in kw.items()}


# --- orchestrator bodies ---------------------------------------------------------------


class BootstrapIn(Body):
    auth_key: str | None = Field(None, max_length=128)


class MapReadyIn(Body):
    map_id: str
    instance_id: str
    endpoint: str


class HeartbeatIn(Body):
    map_id: str
    instance_id: str
    stats: dict[str, Any] = Field(default_factory=dict)


class RedeemIn(Body):
    map_id: str
    token: str = Field(max_length=2048)


class PlayerLeftIn(Body):
    map_id: str
    character_key: str
    epoch: int


class RequestTransferIn(Body):
    character_key: str
    character_id: int | None = None
    from_map_id: str
    to_map_id: str


class TransferResultIn(Body):
    transfer_id: str
    map_id: str
    phase: str = Field(pattern="^(released|completed|failed)$")
    epoch: int | None = None


class SnapshotIn(Body):
    map_id: str
    instance_id: str
    partition: str = Field(max_length=128)
    revision: int = Field(ge=0)
    server_time_ms: int = 0
    payload_b64: str
    epoch: int | None = None


class RehydrateIn(Body):
    map_id: str
    instance_id: str


class InventoryOpIn(Body):
    character_key: str
    slot: int = Field(ge=0)
    item_kind: str = Field(max_length=64)
    delta: int


class CriticalEventBody(Body):
    event_id: str = Field(min_length=1, max_length=64)
    instance_id: str
    partition: str = Field(max_length=128)
    revision: int = Field(ge=0)
    kind: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)
    inventory_ops: list[InventoryOpIn] = Field(default_factory=list)


def _lease_json(x: Lease | Fallback | None) -> dict[str, Any] | None:
    if isinstance(x, Lease):
        return _out(map_id=x.map_id, epoch=x.epoch)
    if isinstance(x, Fallback):
        return _out(map_id=x.map_id, epoch=x.lease.epoch if x.lease else None,
                    join_ticket=x.join_ticket, reason=x.reason.value)
    return None


def create_public_app(orch: Orchestrator) -> FastAPI:
    """``POST /orch/bootstrap`` -> ``{ticket, mapId, endpoint, expiresAtMs, characterId,
    disposable}``."""
    app = FastAPI(title="planet orchestrator (public)")
    _install_error_handlers(app)

    @app.post("/orch/bootstrap")
    async def bootstrap(body: BootstrapIn) -> dict[str, Any]:
        offer = await orch.bootstrap(body.auth_key)
        return _out(ticket=offer.ticket, map_id=offer.map_id, endpoint=offer.endpoint,
                    expires_at_ms=offer.expires_at_ms, character_id=offer.character_id,
                    disposable=offer.disposable)

    return app


def create_control_app(orch: Orchestrator) -> FastAPI:
    """The orchestrator's internal routes (loopback + secret)."""
    guard = internal_guard(orch.settings.internal_rpc_secret.get_secret_value())
    app = FastAPI(title="planet orchestrator (control)", dependencies=[Depends(guard)])
    _install_error_handlers(app)
    r = APIRouter(prefix="/orch")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "role": "orchestrator",
                "maps": {k: e.state.value for k, e in orch.supervisor.maps.items()}}

    @r.post("/map-ready")
    async def map_ready(body: MapReadyIn) -> dict[str, Any]:
        orch.supervisor.map_ready(body.map_id, body.endpoint)
        return {"ok": True}

    @r.post("/map-heartbeat")
    async def map_heartbeat(body: HeartbeatIn) -> dict[str, Any]:
        return {"ok": orch.supervisor.heartbeat(body.map_id, body.stats)}

    @r.post("/redeem-join-ticket")
    async def redeem_join(body: RedeemIn) -> dict[str, Any]:
        claims, lease = await orch.redeem_join(body.token, body.map_id)
        return _out(join_id=claims.join_id, character_key=claims.auth_key_hash,
                    character_id=claims.character_id, epoch=lease.epoch)

    @r.post("/player-left")
    async def player_left(body: PlayerLeftIn) -> dict[str, Any]:
        await orch.player_left(body.character_key, body.map_id, body.epoch)
        return {"ok": True}

    @r.post("/request-transfer")
    async def request_transfer(body: RequestTransferIn) -> dict[str, Any]:
        t, token, endpoint = await orch.request_transfer(
            character=body.character_key, character_id=body.character_id,
            from_map=body.from_map_id, to_map=body.to_map_id)
        assert t.token is not None
        return _out(transfer_id=t.transfer_id, token=token, to_map_id=t.to_map,
                    endpoint=endpoint, expires_at_ms=t.token.expires_at_ms)

    @r.post("/redeem-transfer-token")
    async def redeem_transfer(body: RedeemIn) -> dict[str, Any]:
        t = await orch.redeem_transfer(body.token, body.map_id)
        return _out(transfer_id=t.transfer_id, character_key=t.character,
                    character_id=t.character_id, from_map_id=t.from_map, state=t.state.value)

    @r.post("/transfer-result")
    async def transfer_result(body: TransferResultIn) -> dict[str, Any]:
        t, out = await orch.transfer_result(body.transfer_id, map_id=body.map_id,
                                            phase=body.phase, epoch=body.epoch)
        return _out(transfer_id=t.transfer_id, state=t.state.value,
                    lease=_lease_json(out) if isinstance(out, Lease) else None,
                    fallback=_lease_json(out) if isinstance(out, Fallback) else None)

    @r.post("/persist-snapshot")
    async def persist_snapshot(body: SnapshotIn) -> dict[str, Any]:
        payload = base64.b64decode(body.payload_b64, validate=True)
        res = await orch.persist_snapshot(
            map_id=body.map_id, instance_id=body.instance_id, partition=body.partition,
            revision=body.revision, payload=payload, server_time_ms=body.server_time_ms,
            epoch=body.epoch)
        return {"result": res.value}

    @r.post("/rehydrate")
    async def rehydrate(body: RehydrateIn) -> dict[str, Any]:
        """A (re)started map instance's state: checkpointed snapshots + later events."""
        led = orch.ledger.ledger
        got = await orch.ledger.call(led.rehydrate, body.instance_id)
        return _out(
            checkpoint_id=got.checkpoint.checkpoint_id if got.checkpoint else None,
            snapshots=[_out(partition=part, revision=rec.revision,
                            server_time_ms=rec.server_time_ms,
                            payload_b64=base64.b64encode(rec.payload).decode())
                       for (_, part), rec in sorted(got.snapshots.items())],
            events=[_out(seq=e.seq, event_id=e.event_id, partition=e.partition,
                         revision=e.revision, kind=e.kind, payload=e.payload)
                    for e in got.events])

    @r.post("/persist-critical-event")
    async def persist_critical(body: CriticalEventBody) -> dict[str, Any]:
        ev = CriticalEventIn(
            event_id=body.event_id, instance_id=body.instance_id, partition=body.partition,
            revision=body.revision, kind=body.kind, payload=body.payload,
            inventory_ops=tuple(InventoryOp(o.character_key, o.slot, o.item_kind, o.delta)
                                for o in body.inventory_ops))
        ack = await orch.persist_critical_event(ev)
        return _out(event_id=ack.event_id, seq=ack.seq, duplicate=ack.duplicate)

    app.include_router(r)
    return app


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
    _install_error_handlers(app)
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


def control_server(app: FastAPI, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for a control app; refuses a non-loopback ``host``.

    Raises:
        ValueError: ``host`` is not a loopback address.
    """
    if not is_loopback(host):
        raise ValueError(f"control RPC must bind to loopback, not {host!r}")
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            lifespan="off")
    return uvicorn.Server(config)


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
