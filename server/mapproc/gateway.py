"""``OrchestratorGateway``: a map process's :class:`~server.net.gateway.MapGateway` and
its ``/control/*`` handler (:class:`~server.orchestrator.control.MapControl`).

Join (a JoinTicket, ``jt.``): ``POST /orch/redeem-join-ticket`` -> identity, lease epoch
and the character's newest state -> the world admits it -> JOIN_ACCEPTED.

Transfer, source side: TRANSFER_REQUEST -> ``POST /orch/request-transfer`` -> the client
gets TRANSFER_TO (endpoint + TransferToken) and GOODBYE 1000. The source keeps the
character's lease until the orchestrator calls ``/control/release-character``; then it
answers with its epoch and the character's final snapshot and stops persisting it.

Transfer, destination side (a TransferToken, ``tt.``): ``POST /orch/redeem-transfer-token``
(the orchestrator has the source release and returns the state) -> the world admits it ->
``POST /orch/transfer-result`` ``completed`` -> the new lease epoch -> JOIN_ACCEPTED.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import HTTPException

from server.logging import log
from server.net.gateway import Admission, TicketRefused, TransferOrder, TransferRefused
from server.orchestrator.control import ControlClient, JoinNotice, TransferNotice
from server.orchestrator.mapconfig import MapConfig
from server.protocol import ErrorCode
from server.world.records import CharacterRecord

from .remote_store import (
    CANISTERS_PER_CHARACTER,
    CharacterLink,
    RemoteStore,
    canister_list,
    record_from_state,
)

if TYPE_CHECKING:
    from server.net.server import GameServer

logger = logging.getLogger("server.mapproc.gateway")


def _reason(r: httpx.Response) -> tuple[str, str]:
    try:
        body = r.json()
    except ValueError:
        return "UNAVAILABLE", f"HTTP {r.status_code}"
    if not isinstance(body, dict):
        return "UNAVAILABLE", f"HTTP {r.status_code}"
    reason = str(body.get("reason") or body.get("error") or f"HTTP {r.status_code}")
    detail = str(body.get("detail") or body.get("mapId") or "")
    if "retryAfterMs" in body:
        detail = f"{detail} (retry after {body['retryAfterMs']} ms)".strip()
    return reason, detail


class OrchestratorGateway:
    """See the module docstring. ``server`` is set by the runtime after construction."""

    def __init__(self, rpc: ControlClient, store: RemoteStore, config: MapConfig) -> None:
        self.rpc = rpc
        self.store = store
        self.config = config
        self.map_id = config.map_id
        self.server: GameServer | None = None
        #: transfer id -> (the admission of a character leaving by transfer, when, s)
        self.outgoing: dict[str, tuple[Admission, float]] = {}
        #: Outgoing transfers never released by then are forgotten (seconds): the
        #: orchestrator has aborted them (its deadline is ``transfer_timeout_ms``).
        self.outgoing_ttl_s = 120.0
        #: disposable character key -> its state, kept from leave to release
        self.transient: dict[str, dict[str, Any]] = {}

    # ---- MapGateway ---------------------------------------------------------------------
    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            return await self.rpc.post(path, body)
        except httpx.HTTPError as e:
            raise TicketRefused("UNAVAILABLE", f"orchestrator unreachable: {e!r}") from e

    async def admit(self, ticket: str) -> Admission:
        kind = ticket.split(".", 1)[0]
        if kind == "jt":
            r = await self._post("/orch/redeem-join-ticket",
                                 {"mapId": self.map_id, "token": ticket})
            if r.status_code != 200:
                raise TicketRefused(*_reason(r))
            body = r.json()
            return self._admission(body, epoch=int(body["epoch"]), transfer_id=None)
        if kind == "tt":
            r = await self._post("/orch/redeem-transfer-token",
                                 {"mapId": self.map_id, "token": ticket})
            if r.status_code != 200:
                raise TicketRefused(*_reason(r))
            body = r.json()
            return self._admission(body, epoch=0, transfer_id=str(body["transferId"]))
        raise TicketRefused("MALFORMED", "not a join ticket (jt.) or transfer token (tt.)")

    def _admission(self, body: dict[str, Any], *, epoch: int,
                   transfer_id: str | None) -> Admission:
        cid = body.get("characterId")
        cid = int(cid) if cid is not None else None
        state = body.get("state")
        rec: CharacterRecord | None = None
        if cid is not None or isinstance(state, dict):  # disposable: state of a transfer
            rec, at_spawn = record_from_state(state, cid or 0, self.map_id)
            if rec is not None and at_spawn and self.server is not None:
                rec.position = self.server.world.spawn_position()
        return Admission(character_key=str(body["characterKey"]), character_id=cid,
                         epoch=epoch, record=rec, transfer_id=transfer_id,
                         canister_id_base=cid * CANISTERS_PER_CHARACTER if cid else None,
                         state=state if isinstance(state, dict) else None)

    async def admitted(self, adm: Admission, player_id: int) -> None:
        if adm.transfer_id is not None:
            r = await self._post("/orch/transfer-result", {
                "transferId": adm.transfer_id, "mapId": self.map_id, "phase": "completed"})
            if r.status_code != 200:
                raise TicketRefused(*_reason(r))
            lease = r.json().get("lease") or {}
            adm.epoch = int(lease["epoch"])
        if adm.character_id is not None:
            state = dict(adm.state or {})
            self.store.observe_revision(int(state.pop("revision", 0) or 0))
            link = CharacterLink(adm.character_id, adm.character_key, adm.epoch, state)
            self.store.register(link)
            assert self.server is not None
            rec = self.server.world.character_record(player_id)
            if rec is not None:  # the arrival is saved at once (a new map in `poses`)
                self.store.enqueue("/orch/persist-snapshots", {
                    "mapId": self.map_id, "items": [self.store.character_item(link, rec)]})

    async def soil_changed(self, adm: Admission, record: CharacterRecord) -> None:
        assert adm.character_id is not None
        link = self.store.links.get(adm.character_id)
        if link is None:
            raise RuntimeError("character is not held by this map")
        payload = {"canisters": canister_list(record), "mapId": self.map_id}
        await self.store.critical(link, "soil", payload)

    async def request_transfer(self, adm: Admission, to_map_id: str) -> TransferOrder:
        try:
            r = await self.rpc.post("/orch/request-transfer", {
                "characterKey": adm.character_key, "characterId": adm.character_id,
                "fromMapId": self.map_id, "toMapId": to_map_id})
        except httpx.HTTPError as e:
            raise TransferRefused("UNAVAILABLE", f"orchestrator unreachable: {e!r}") from e
        if r.status_code != 200:
            raise TransferRefused(*_reason(r))
        b = r.json()
        expires_in = max(0, int(b["expiresAtMs"]) - _now_ms())
        order = TransferOrder(transfer_id=str(b["transferId"]), to_map_id=str(b["toMapId"]),
                              endpoint=str(b.get("endpoint") or ""), token=str(b["token"]),
                              expires_in_ms=expires_in)
        now = time.monotonic()
        for tid, (old, since) in list(self.outgoing.items()):
            if now - since > self.outgoing_ttl_s:
                del self.outgoing[tid]
                self.transient.pop(old.character_key, None)
        self.outgoing[order.transfer_id] = (adm, now)
        return order

    def left(self, adm: Admission, *, transferring: bool,
             record: CharacterRecord | None = None) -> None:
        if transferring:
            # the lease stays here until /control/release-character; a disposable
            # player's state is not persisted, so it travels in the release answer
            if adm.character_id is None and record is not None:
                self.transient[adm.character_key] = {
                    "mapId": self.map_id, "canisters": canister_list(record)}
            return
        self.store.enqueue("/orch/player-left", {"mapId": self.map_id,
                                                 "characterKey": adm.character_key,
                                                 "epoch": adm.epoch})
        if adm.character_id is not None:
            self.store.release(adm.character_id)

    # ---- MapControl (/control/*) ------------------------------------------------------------
    async def start_instance(self, config: MapConfig) -> dict[str, Any]:
        if config.instance_id != self.config.instance_id:
            raise HTTPException(409, f"this process runs {self.config.instance_id}")
        return {"ok": True, "instanceId": self.config.instance_id, "running": True}

    async def stop_instance(self, instance_id: str) -> dict[str, Any]:
        if instance_id != self.config.instance_id:
            raise HTTPException(409, f"this process runs {self.config.instance_id}")
        if self.server is not None:
            self.server.stop("map stopping (orchestrator shutdown)")
        return {"ok": True}

    async def validate_join_ticket(self, notice: JoinNotice) -> dict[str, Any]:
        return {"ok": True}

    async def prepare_incoming_transfer(self, notice: TransferNotice) -> dict[str, Any]:
        return {"ok": True}

    async def ack_transfer_complete(self, transfer_id: str, epoch: int) -> dict[str, Any]:
        return {"ok": True}

    async def release_character(self, transfer_id: str, character_key: str) -> dict[str, Any]:
        """Hand a character over: kick its session if still here (its state is flushed),
        answer with the lease epoch and the final snapshot, stop persisting it."""
        entry = self.outgoing.pop(transfer_id, None)
        if entry is None or entry[0].character_key != character_key:
            raise HTTPException(409, "no such outgoing transfer")
        adm = entry[0]
        if self.server is not None:
            s = self.server.session_of_character(character_key)
            if s is not None:
                self.server.remove_session(s, ErrorCode.NORMAL, "transferred")
        snapshot = None
        transient = self.transient.pop(character_key, None)
        if adm.character_id is not None:
            link = self.store.release(adm.character_id)
            if link is not None:
                item = self.store.character_item(link, None)
                snapshot = {"revision": item["revision"], "payloadB64": item["payloadB64"],
                            "serverTimeMs": item["serverTimeMs"]}
        log(logger, "character_released", transfer=transfer_id, epoch=adm.epoch)
        return {"epoch": adm.epoch, "snapshot": snapshot, "transient": transient}

    async def health(self) -> dict[str, Any]:
        srv = self.server
        return {"status": "ok", "role": "map", "mapId": self.map_id,
                "instanceId": self.config.instance_id,
                "players": len(srv.players) if srv is not None else 0,
                "tick": srv.world.tick if srv is not None else 0,
                "pushes": self.store.pushes, "criticalEvents": self.store.critical_events,
                "databaseModules": sorted(m for m in sys.modules
                                          if m.split(".")[0] in ("sqlalchemy", "sqlmodel",
                                                                 "alembic"))}


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
