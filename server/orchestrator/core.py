"""``Orchestrator``: tokens + authority + transfers + supervision + ledger, behind the
operations the control RPC (rpc.py) exposes. Runs on one asyncio loop; the ledger runs on
its own thread (``AsyncLedger``).

Operation -> effect (all raise the structured errors of their modules):

* ``bootstrap(auth_key)``: identity -> character; target = the map holding its lease,
  else the default map (spawned lazily); a JoinTicket for it.
* ``redeem_join(token, map_id)``: the map presents a client's ticket; verified, consumed,
  the map gets the lease (fencing epoch returned).
* ``request_transfer``: the destination is spawned lazily and awaited; a TransferToken.
* ``redeem_transfer(token, map_id)``: destination_accepted.
* ``transfer_result(..., phase)``: ``released`` (source) / ``completed`` (destination) /
  ``failed`` (either) -> source_released / completed / aborted with the fallback.
* ``persist_snapshot`` / ``persist_critical_event``: ledger (character partitions are
  fenced by the lease epoch).
* ``run(stop)``: supervision ticks, transfer deadlines, periodic checkpoints.

Every transfer state change is written to the ledger's ``transfer`` table before the
operation that caused it returns (a commit point).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from .control import ControlClient
from .ledger import (
    CHARACTER_PARTITION,
    CHARACTERS_INSTANCE,
    AsyncLedger,
    CriticalAck,
    CriticalEventIn,
    IngestResult,
)
from .mapconfig import MapConfig, generate_map_config, map_id_for
from .settings import OrchestratorSettings
from .supervisor import (
    MapSupervisor,
    MapUnavailable,
    Spawner,
    SupervisorPolicy,
    UnavailableReason,
    monotonic_ms,
)
from .tokens import TokenService, auth_key_hash, disposable_identity
from .transfers import (
    AbortReason,
    AuthorityRegistry,
    Fallback,
    Lease,
    Transfer,
    TransferError,
    TransferManager,
    TransferRefusal,
)

log = logging.getLogger("server.orchestrator")

__all__ = ["CHARACTERS_INSTANCE", "CHARACTER_PARTITION", "JoinOffer", "Orchestrator"]


@dataclass(frozen=True, slots=True)
class JoinOffer:
    """What bootstrap returns to the client."""

    ticket: str
    map_id: str
    endpoint: str | None
    expires_at_ms: int
    character_id: int | None
    disposable: bool


class Orchestrator:
    def __init__(self, settings: OrchestratorSettings, ledger: AsyncLedger,
                 spawner: Spawner, *, tokens: TokenService | None = None) -> None:
        self.settings = settings
        self.ledger = ledger
        self.tokens = tokens or TokenService(settings.secret_bytes(),
                                             join_ttl_ms=settings.join_ticket_ttl_ms,
                                             transfer_ttl_ms=settings.transfer_token_ttl_ms,
                                             rebootstrap=settings.rebootstrap_path)
        self.supervisor = MapSupervisor(spawner, SupervisorPolicy.from_settings(settings),
                                        on_down=self._map_down)
        self.registry = AuthorityRegistry()
        self._changed: list[Transfer] = []
        self.transfers = TransferManager(
            self.registry, self.tokens, default_map_id=map_id_for(settings.default_planet_index),
            is_available=self.supervisor.is_available, timeout_ms=settings.transfer_timeout_ms,
            clock_ms=self.tokens.clock_ms, on_transition=self._changed.append)
        self.configs: dict[str, MapConfig] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._map_clients: dict[str, ControlClient] = {}
        #: Timeout (s) of one orchestrator -> map control call.
        self.map_call_timeout_s = 3.0

    @property
    def default_map_id(self) -> str:
        return self.transfers.default_map_id

    # ---- maps ---------------------------------------------------------------------
    def config_for(self, map_id: str) -> MapConfig:
        """The MapConfig of ``map_id`` (``planet-<index>``), generated on first use.

        Raises:
            MapUnavailable: UNKNOWN_MAP for a malformed id or a planet that does not exist.
        """
        cfg = self.configs.get(map_id)
        if cfg is not None:
            return cfg
        prefix, _, idx = map_id.partition("-")
        try:
            if prefix != "planet" or not idx.isdigit():
                raise ValueError(map_id)
            cfg = generate_map_config(self.settings.world_seed, int(idx))
        except ValueError:
            raise MapUnavailable(map_id, UnavailableReason.UNKNOWN_MAP) from None
        self.configs[map_id] = cfg
        return cfg

    async def ensure_map(self, map_id: str, *, wait_ms: int = 10_000) -> str | None:
        """Spawn ``map_id`` if needed and wait until it is healthy; its endpoint.

        Raises:
            MapUnavailable: unknown, quarantined, restarting, or not ready in ``wait_ms``.
        """
        cfg = self.config_for(map_id)
        if map_id not in self.supervisor.maps:
            await self.ledger.call(self.ledger.ledger.register_map_instance,
                                   instance_id=cfg.instance_id, map_id=map_id,
                                   world_seed=cfg.world_seed, planet_index=cfg.planet_index,
                                   config_json=cfg.to_json(), config_hash=cfg.config_hash())
        await self.supervisor.ensure(map_id, cfg)
        deadline = monotonic_ms() + wait_ms
        while True:
            try:
                return self.supervisor.check_available(map_id).endpoint
            except MapUnavailable as e:
                if e.reason is not UnavailableReason.STARTING or monotonic_ms() >= deadline:
                    raise
            await asyncio.sleep(0.02)

    def _map_down(self, map_id: str, reason: str) -> None:
        held = self.transfers.map_down(map_id)
        if self._changed:  # aborted transfers: record them (commit points)
            task = asyncio.get_running_loop().create_task(self._commit_transfers())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        level = logging.INFO if reason == "stopped" else logging.WARNING  # a stop is planned
        log.log(level, "map_leases_revoked", extra={"fields": {
            "map_id": map_id, "reason": reason, "characters": len(held)}})

    async def _commit_transfers(self) -> None:
        changed, self._changed[:] = list(self._changed), []
        for t in changed:
            reason = t.fallback.reason.value if t.fallback else None
            await self.ledger.call(self.ledger.ledger.record_transfer,
                                   transfer_id=t.transfer_id, character_key=t.character,
                                   from_map=t.from_map, to_map=t.to_map, state=t.state.value,
                                   reason=reason)

    # ---- client entry -----------------------------------------------------------------
    async def bootstrap(self, auth_key: str | None) -> JoinOffer:
        """Resolve the identity and hand out a JoinTicket (the raw key is not kept)."""
        if auth_key:
            identity = auth_key_hash(self.settings.salt_bytes(), auth_key)
            del auth_key
            character_id: int | None = await self.ledger.call(
                self.ledger.ledger.resolve_character, identity,
                world_seed=self.settings.world_seed,
                planet_index=self.settings.default_planet_index)
        else:
            identity, character_id = disposable_identity(), None
        lease = self.registry.holder(identity)
        target = lease.map_id if lease is not None else self.default_map_id
        if lease is None and character_id is not None:
            state = await self.ledger.call(self.ledger.ledger.character_state, identity)
            last = state.get("mapId") if state else None
            if isinstance(last, str) and last != target:
                try:  # back to the map the character was on, if it can take it now
                    await self.ensure_map(last)
                    target = last
                except MapUnavailable as e:
                    log.info("last_map_unavailable", extra={"fields": {
                        "map_id": last, "reason": e.reason.value}})
        endpoint = await self.ensure_map(target)
        claims, ticket = self.tokens.mint_join(auth_key_hash=identity,
                                               character_id=character_id, target_map_id=target)
        log.info("join_ticket_issued", extra={"fields": {
            "identity": identity[:16], "map_id": target, "join_id": claims.join_id}})
        return JoinOffer(ticket, target, endpoint, claims.expires_at_ms, character_id,
                         character_id is None)

    async def redeem_join(self, token: str, map_id: str
                          ) -> tuple[Any, Lease, dict[str, Any] | None]:
        """A map presents a client's JoinTicket: (claims, the map's lease, the character's
        newest state from the ledger or None)."""
        claims = self.tokens.verify_join(token, map_id=map_id)
        lease = self.transfers.place(claims.auth_key_hash, map_id)
        state = None
        if claims.character_id is not None:
            state = await self.ledger.call(self.ledger.ledger.character_state,
                                           claims.auth_key_hash)
        return claims, lease, state

    # ---- calls to map processes ----------------------------------------------------
    async def map_call(self, map_id: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to a running map's control app; its JSON answer.

        Raises:
            MapUnavailable: the map is not running (no control URL).
            httpx.HTTPError: transport failure or a non-2xx answer.
        """
        e = self.supervisor.maps.get(map_id)
        url = e.control_url if e is not None else None
        if url is None:
            raise MapUnavailable(map_id, UnavailableReason.STOPPED)
        client = self._map_clients.get(url)
        if client is None:
            client = self._map_clients[url] = ControlClient(
                url, self.settings.internal_rpc_secret.get_secret_value(),
                timeout_s=self.map_call_timeout_s)
        r = await client.post(path, body)
        r.raise_for_status()
        out: dict[str, Any] = r.json()
        return out

    async def close_map_clients(self) -> None:
        for c in self._map_clients.values():
            await c.aclose()
        self._map_clients.clear()

    async def stop_maps(self, timeout_s: float = 10.0) -> None:
        """Clean shutdown of every map: ``/control/stop-instance`` (each pushes its last
        snapshots and says GOODBYE to its clients), wait for the exits, kill the rest."""
        self.supervisor.draining = True
        asked = []
        for map_id, e in list(self.supervisor.maps.items()):
            if e.handle is None or e.handle.returncode is not None:
                continue
            try:
                await self.map_call(map_id, "/control/stop-instance",
                                    {"instanceId": self.config_for(map_id).instance_id})
                asked.append(e)
            except (httpx.HTTPError, MapUnavailable) as exc:
                log.warning("map_stop_failed", extra={"fields": {"map_id": map_id,
                                                                 "error": repr(exc)}})
        deadline = monotonic_ms() + int(timeout_s * 1000)
        while any(e.handle is not None and e.handle.returncode is None for e in asked) \
                and monotonic_ms() < deadline:
            await asyncio.sleep(0.05)
        await self.supervisor.stop_all()
        await self.close_map_clients()

    async def player_left(self, character: str, map_id: str, epoch: int) -> None:
        self.transfers.leave(character, map_id, epoch)

    # ---- transfers ----------------------------------------------------------------------
    async def request_transfer(self, *, character: str, character_id: int | None,
                               from_map: str, to_map: str) -> tuple[Transfer, str, str | None]:
        """(transfer, token, destination endpoint). Lazily spawns the destination."""
        lease = self.registry.holder(character)
        if lease is None or lease.map_id != from_map:
            raise TransferError(TransferRefusal.NOT_AUTHORITATIVE, from_map)
        endpoint = await self.ensure_map(to_map)
        try:
            t, token = self.transfers.request(character=character, character_id=character_id,
                                              from_map=from_map, to_map=to_map)
        finally:
            await self._commit_transfers()
        return t, token, endpoint

    async def redeem_transfer(self, token: str, map_id: str
                              ) -> tuple[Transfer, dict[str, Any] | None]:
        """The destination presents a TransferToken: ``destination_accepted``; then the
        source is told to release the character (``/control/release-character``: it
        answers with its fencing epoch and the character's final snapshot, ingested here)
        -> ``source_released``. Returns the transfer and the character's newest state.

        Raises:
            TokenDenied: a bad, expired or replayed token (nothing changes).
            TransferError: SOURCE_UNAVAILABLE when the source cannot release (the
                transfer is aborted; the character stays with the source).
        """
        try:
            t = self.transfers.accept(token, map_id=map_id)
        finally:
            await self._commit_transfers()
        try:
            res = await self.map_call(t.from_map, "/control/release-character",
                                      {"transferId": t.transfer_id,
                                       "characterKey": t.character})
            epoch = int(res["epoch"])
            snap = res.get("snapshot")
            if snap:
                await self.persist_snapshot(
                    map_id=t.from_map, instance_id=CHARACTERS_INSTANCE,
                    partition=CHARACTER_PARTITION + t.character,
                    revision=int(snap["revision"]),
                    payload=base64.b64decode(snap["payloadB64"], validate=True),
                    server_time_ms=int(snap.get("serverTimeMs", 0)), epoch=epoch)
            self.transfers.release(t.transfer_id, map_id=t.from_map, epoch=epoch)
        except (httpx.HTTPError, MapUnavailable, KeyError, ValueError, TypeError,
                TransferError) as exc:
            log.warning("transfer_release_failed", extra={"fields": {
                "transfer_id": t.transfer_id, "from_map": t.from_map, "error": repr(exc)}})
            if self.transfers.get(t.transfer_id).active:
                self.transfers.abort(t.transfer_id, AbortReason.CANCELLED)
            await self._commit_transfers()
            raise TransferError(TransferRefusal.SOURCE_UNAVAILABLE,
                                f"{t.from_map} could not release the character") from exc
        await self._commit_transfers()
        state = await self.ledger.call(self.ledger.ledger.character_state, t.character)
        transient = res.get("transient")
        if state is None and isinstance(transient, dict):
            state = transient  # a disposable session's canisters (never stored)
        return t, state

    async def transfer_result(self, transfer_id: str, *, map_id: str, phase: str,
                              epoch: int | None = None) -> tuple[Transfer, Lease | Fallback | None]:
        """``phase``: ``released`` (source, with its epoch), ``completed`` (destination),
        ``failed`` (either side gives up)."""
        try:
            out: Lease | Fallback | None = None
            if phase == "released":
                if epoch is None:
                    raise TransferError(TransferRefusal.STALE_EPOCH, "epoch required")
                self.transfers.release(transfer_id, map_id=map_id, epoch=epoch)
            elif phase == "completed":
                out = self.transfers.complete(transfer_id, map_id=map_id)
            elif phase == "failed":
                t = self.transfers.get(transfer_id)
                if map_id not in (t.from_map, t.to_map):
                    raise TransferError(TransferRefusal.WRONG_MAP, map_id)
                out = self.transfers.abort(transfer_id, AbortReason.DESTINATION_REJECTED)
            else:
                raise TransferError(TransferRefusal.ILLEGAL_TRANSITION, f"phase {phase!r}")
            return self.transfers.get(transfer_id), out
        finally:
            await self._commit_transfers()

    # ---- persistence --------------------------------------------------------------------
    def _check_fence(self, map_id: str, partition: str, epoch: int | None) -> None:
        """Character partitions only from the map holding the lease with ``epoch``.

        Raises:
            TransferError: STALE_EPOCH.
        """
        if partition.startswith(CHARACTER_PARTITION):
            character = partition[len(CHARACTER_PARTITION):]
            if epoch is None or not self.registry.check(character, map_id, epoch):
                raise TransferError(TransferRefusal.STALE_EPOCH,
                                    f"{map_id} does not hold {partition}")

    async def persist_snapshot(self, *, map_id: str, instance_id: str, partition: str,
                               revision: int, payload: bytes, server_time_ms: int,
                               epoch: int | None) -> IngestResult:
        self._check_fence(map_id, partition, epoch)
        return await self.ledger.call(self.ledger.ledger.ingest_snapshot, instance_id,
                                      partition, revision, payload, server_time_ms)

    async def persist_snapshots(self, *, map_id: str, items: list[dict[str, Any]]
                                ) -> list[str]:
        """A batch of :meth:`persist_snapshot` (one flush of a map); per item the result
        value or ``refused:<reason>`` (a stale character epoch does not fail the batch)."""
        out: list[str] = []
        fenced: list[tuple[int, dict[str, Any]]] = []
        for it in items:
            try:
                self._check_fence(map_id, it["partition"], it["epoch"])
                fenced.append((len(out), it))
                out.append("")
            except TransferError as e:
                out.append(f"refused:{e.code.value}")
        led = self.ledger.ledger

        def ingest_all() -> list[IngestResult]:  # one hop to the ledger thread
            return [led.ingest_snapshot(it["instance_id"], it["partition"], it["revision"],
                                        it["payload"], it["server_time_ms"])
                    for _, it in fenced]

        for (i, _), res in zip(fenced, await self.ledger.call(ingest_all), strict=True):
            out[i] = res.value
        return out

    async def persist_critical_event(self, ev: CriticalEventIn) -> CriticalAck:
        return await self.ledger.append_critical(ev)

    # ---- background -------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Supervise, expire transfers, checkpoint, until ``stop``; then a last checkpoint."""
        poll_s = self.settings.supervisor_poll_ms / 1000
        next_cp = monotonic_ms() + self.settings.checkpoint_ms
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.supervisor.run(stop, self.settings.supervisor_poll_ms))
            while not stop.is_set():
                if self.transfers.expire():
                    await self._commit_transfers()
                # finished transfers stay queryable for 10 min (their rows stay in the DB)
                self.transfers.forget_finished(self.tokens.clock_ms() - 600_000)
                if monotonic_ms() >= next_cp:
                    await self.ledger.call(self.ledger.ledger.checkpoint)
                    next_cp = monotonic_ms() + self.settings.checkpoint_ms
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_s)
        await self.ledger.call(self.ledger.ledger.checkpoint)
