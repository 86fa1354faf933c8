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
import math
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from server.net.ratelimit import TokenBucket

from .control import (
    SECRET_HEADER,
    AckCompleteIn,
    Body,
    ControlClient,
    Forbidden,
    JoinNotice,
    MapControl,
    ReleaseIn,
    StopIn,
    TransferNotice,
    control_server,
    create_map_control_app,
    install_error_handlers,
    internal_guard,
    out,
)
from .core import Orchestrator
from .ledger import CriticalEventIn, InventoryOp, LedgerError
from .transfers import Fallback, Lease

__all__ = ["SECRET_HEADER", "AckCompleteIn", "ControlClient", "Forbidden", "JoinNotice",
           "MapControl", "ReleaseIn", "StopIn", "TransferNotice", "control_server",
           "create_control_app", "create_map_control_app", "create_public_app",
           "internal_guard"]

_out = out


def _install_error_handlers(app: FastAPI) -> None:
    install_error_handlers(app)

    async def ledger_error(_: Request, e: Exception) -> JSONResponse:
        return JSONResponse({"error": "ledger_refused", "reason": type(e).__name__,
                             "detail": str(e)}, status_code=409)

    app.add_exception_handler(LedgerError, ledger_error)


# --- orchestrator bodies ---------------------------------------------------------------


class BootstrapIn(Body):
    auth_key: str | None = Field(None, max_length=128)


class MapReadyIn(Body):
    map_id: str
    instance_id: str
    endpoint: str
    control_url: str | None = None


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


class SnapshotItem(Body):
    """One partition's snapshot (``epoch``: the lease epoch, for character partitions)."""

    instance_id: str
    partition: str = Field(max_length=128)
    revision: int = Field(ge=0)
    server_time_ms: int = 0
    payload_b64: str
    epoch: int | None = None


class SnapshotIn(SnapshotItem):
    map_id: str


class SnapshotBatchIn(Body):
    map_id: str
    items: list[SnapshotItem] = Field(max_length=4096)


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


class BootstrapLimiter:
    """Per client address token buckets for the public bootstrap (each new auth key
    creates a character row, so an address may not mint them without bound)."""

    #: Addresses tracked at most; beyond, the buckets that are full again are dropped.
    MAX_ADDRESSES = 10_000

    def __init__(self, rate_per_s: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}

    def retry_after_ms(self, address: str) -> int:
        """0 if ``address`` may bootstrap now (a token is taken), else the wait in ms."""
        now = self.clock()
        b = self.buckets.get(address)
        if b is None:
            if len(self.buckets) >= self.MAX_ADDRESSES:
                self.buckets = {k: v for k, v in self.buckets.items()
                                if v.refill(now) < v.capacity}
            b = self.buckets[address] = TokenBucket(self.rate, self.burst, now)
        if b.try_take(1, now):
            return 0
        return max(1, math.ceil((1 - b.tokens) / self.rate * 1000))


def create_public_app(orch: Orchestrator) -> FastAPI:
    """``POST /orch/bootstrap`` -> ``{ticket, mapId, endpoint, expiresAtMs, characterId,
    disposable}``; 429 ``{error: rate_limited, reason: RATE_LIMITED, retryAfterMs}`` (+
    ``Retry-After``) beyond ``bootstrap_rate_per_s`` per client address."""
    app = FastAPI(title="planet orchestrator (public)")
    _install_error_handlers(app)
    limiter = BootstrapLimiter(orch.settings.bootstrap_rate_per_s,
                               orch.settings.bootstrap_burst)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness for load balancers and operators: no secrets, map states only."""
        return {"status": "ok", "role": "orchestrator",
                "maps": {k: e.state.value for k, e in orch.supervisor.maps.items()}}

    @app.post("/orch/bootstrap", response_model=None)
    async def bootstrap(body: BootstrapIn, request: Request) -> dict[str, Any] | JSONResponse:
        address = request.client.host if request.client is not None else ""
        wait_ms = limiter.retry_after_ms(address)
        if wait_ms:
            return JSONResponse({"error": "rate_limited", "reason": "RATE_LIMITED",
                                 "retryAfterMs": wait_ms}, status_code=429,
                                headers={"Retry-After": str(math.ceil(wait_ms / 1000))})
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
        orch.supervisor.map_ready(body.map_id, body.endpoint, body.control_url)
        return {"ok": True}

    @r.post("/map-heartbeat")
    async def map_heartbeat(body: HeartbeatIn) -> dict[str, Any]:
        return {"ok": orch.supervisor.heartbeat(body.map_id, body.stats)}

    @r.post("/redeem-join-ticket")
    async def redeem_join(body: RedeemIn) -> dict[str, Any]:
        claims, lease, state = await orch.redeem_join(body.token, body.map_id)
        return _out(join_id=claims.join_id, character_key=claims.auth_key_hash,
                    character_id=claims.character_id, epoch=lease.epoch, state=state)

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
        t, state = await orch.redeem_transfer(body.token, body.map_id)
        return _out(transfer_id=t.transfer_id, character_key=t.character,
                    character_id=t.character_id, from_map_id=t.from_map,
                    transfer_state=t.state.value, state=state)

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

    @r.post("/persist-snapshots")
    async def persist_snapshots(body: SnapshotBatchIn) -> dict[str, Any]:
        """One flush of a map: many partitions; per item ``accepted`` / ``duplicate`` /
        ``stale`` / ``refused:<reason>``."""
        items = [dict(instance_id=it.instance_id, partition=it.partition,
                      revision=it.revision, server_time_ms=it.server_time_ms,
                      payload=base64.b64decode(it.payload_b64, validate=True), epoch=it.epoch)
                 for it in body.items]
        return {"results": await orch.persist_snapshots(map_id=body.map_id, items=items)}

    @r.post("/rehydrate")
    async def rehydrate(body: RehydrateIn) -> dict[str, Any]:
        """A (re)started map instance's state: the newest snapshot of each partition the
        orchestrator holds (checkpointed, or ingested since while it kept running) and
        every critical event of the instance newer than its partition's snapshot."""
        led = orch.ledger.ledger
        got = await orch.ledger.call(led.rehydrate_live, body.instance_id)
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


