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
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from .ledger import AsyncLedger, CriticalAck, CriticalEventIn, IngestResult
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

CHARACTER_PARTITION = "character:"


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
        log.warning("map_leases_revoked", extra={"fields": {"map_id": map_id, "reason": reason,
                                                            "characters": len(held)}})

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
        endpoint = await self.ensure_map(target)
        claims, ticket = self.tokens.mint_join(auth_key_hash=identity,
                                               character_id=character_id, target_map_id=target)
        log.info("join_ticket_issued", extra={"fields": {
            "identity": identity[:16], "map_id": target, "join_id": claims.join_id}})
        return JoinOffer(ticket, target, endpoint, claims.expires_at_ms, character_id,
                         character_id is None)

    async def redeem_join(self, token: str, map_id: str) -> tuple[Any, Lease]:
        """A map presents a client's JoinTicket: (claims, the map's lease)."""
        claims = self.tokens.verify_join(token, map_id=map_id)
        lease = self.transfers.place(claims.auth_key_hash, map_id)
        return claims, lease

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

    async def redeem_transfer(self, token: str, map_id: str) -> Transfer:
        try:
            return self.transfers.accept(token, map_id=map_id)
        finally:
            await self._commit_transfers()

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
    async def persist_snapshot(self, *, map_id: str, instance_id: str, partition: str,
                               revision: int, payload: bytes, server_time_ms: int,
                               epoch: int | None) -> IngestResult:
        if partition.startswith(CHARACTER_PARTITION):
            character = partition[len(CHARACTER_PARTITION):]
            if epoch is None or not self.registry.check(character, map_id, epoch):
                raise TransferError(TransferRefusal.STALE_EPOCH,
                                    f"{map_id} does not hold {partition}")
        return await self.ledger.call(self.ledger.ledger.ingest_snapshot, instance_id,
                                      partition, revision, payload, server_time_ms)

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
