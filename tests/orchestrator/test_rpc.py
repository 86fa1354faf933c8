"""Control RPC: the secret header and loopback rule, the bootstrap -> join -> transfer
flow over HTTP (ASGI, no sockets), structured denials, fail-fast quarantine."""

from __future__ import annotations

import asyncio
import base64
import logging

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from server.orchestrator.core import Orchestrator
from server.orchestrator.ledger import AsyncLedger, Ledger
from server.orchestrator.mapconfig import MapConfig, generate_map_config
from server.orchestrator.rpc import (
    SECRET_HEADER,
    control_server,
    create_control_app,
    create_map_control_app,
    create_public_app,
)
from server.orchestrator.settings import OrchestratorSettings
from server.orchestrator.supervisor import MapState
from server.orchestrator.transfers import TransferState

SECRET = "s3cret-for-tests"
RAW_KEY = "very-private-auth-key-123"


class ReadySpawner:
    """Fake map processes that report map-ready right after being spawned."""

    def __init__(self) -> None:
        self.orch: Orchestrator | None = None
        self.spawned: list[str] = []

    async def spawn(self, map_id: str, config: object):
        self.spawned.append(map_id)
        orch = self.orch
        assert orch is not None
        asyncio.get_running_loop().call_soon(
            orch.supervisor.map_ready, map_id, f"ws://127.0.0.1:{9100 + len(self.spawned)}")

        class H:
            pid = 4242
            returncode = None

            async def kill(self) -> None:
                self.returncode = -9

        return H()


@pytest.fixture
async def orch(tmp_path):
    settings = OrchestratorSettings(internal_rpc_secret=SECRET, world_seed=1)
    spawner = ReadySpawner()
    aled = AsyncLedger(Ledger(f"sqlite:///{tmp_path / 'orch.db'}"))
    o = Orchestrator(settings, aled, spawner)
    spawner.orch = o
    o.released = []  # type: ignore[attr-defined]

    async def fake_map_call(map_id: str, path: str, body: dict) -> dict:
        """The source map's /control/release-character: its epoch, no snapshot."""
        assert path == "/control/release-character"
        lease = o.registry.holder(body["characterKey"])
        assert lease is not None and lease.map_id == map_id
        o.released.append((map_id, body["transferId"]))  # type: ignore[attr-defined]
        return {"epoch": lease.epoch, "snapshot": None}

    o.map_call = fake_map_call  # type: ignore[method-assign]
    yield o
    await aled.close()


def client(app, host: str = "127.0.0.1", secret: str | None = SECRET) -> httpx.AsyncClient:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(host, 40000)),
                             base_url="http://orch", headers=headers)


async def test_internal_routes_need_secret_and_loopback(orch):
    app = create_control_app(orch)
    async with client(app) as c:
        r = await c.get("/health")
        assert r.status_code == 200 and r.json()["role"] == "orchestrator"
    async with client(app, host="::1") as c:
        assert (await c.get("/health")).status_code == 200
    for host, secret, reason in [("127.0.0.1", None, "BAD_SECRET"),
                                 ("127.0.0.1", "wrong", "BAD_SECRET"),
                                 ("10.0.0.7", SECRET, "NOT_LOOPBACK"),
                                 ("192.168.1.2", None, "NOT_LOOPBACK")]:
        async with client(app, host=host, secret=secret) as c:
            for path, body in [("/health", None), ("/orch/map-heartbeat",
                                                   {"mapId": "planet-0", "instanceId": "x"})]:
                r = await (c.get(path) if body is None else c.post(path, json=body))
                assert r.status_code == 403, (host, path)
                assert r.json() == {"error": "forbidden", "reason": reason}


def test_control_binding_must_be_loopback():
    with pytest.raises(ValidationError):
        OrchestratorSettings(control_host="0.0.0.0")
    assert OrchestratorSettings(control_host="::1").control_host == "::1"
    with pytest.raises(ValueError):
        control_server(FastAPI(), "0.0.0.0", 9099)
    assert control_server(FastAPI(), "127.0.0.1", 0) is not None


def test_settings_defaults_are_the_seeds():
    s = OrchestratorSettings()
    assert (s.checkpoint_ms, s.transfer_token_ttl_ms, s.join_ticket_ttl_ms,
            s.heartbeat_timeout_ms, s.map_heartbeat_ms, s.map_snapshot_push_ms,
            s.map_restart_window_ms, s.map_restart_max_in_window, s.map_quarantine_ms,
            s.map_control_port_base) == (300_000, 10_000, 10_000, 15_000, 5_000, 10_000,
                                         60_000, 3, 60_000, 9100)
    assert len(s.internal_rpc_secret.get_secret_value()) >= 32
    assert s.internal_rpc_secret != OrchestratorSettings().internal_rpc_secret


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("PLANET_ORCH_TRANSFER_TOKEN_TTL_MS", "5000")
    monkeypatch.setenv("PLANET_ORCH_MAP_QUARANTINE_MS", "1234")
    s = OrchestratorSettings()
    assert s.transfer_token_ttl_ms == 5000 and s.map_quarantine_ms == 1234


async def test_bootstrap_join_transfer_over_rpc(orch, caplog):
    caplog.set_level(logging.DEBUG)
    public, control = create_public_app(orch), create_control_app(orch)
    async with client(public, host="203.0.113.9", secret=None) as pub, client(control) as c:
        r = await pub.post("/orch/bootstrap", json={"authKey": RAW_KEY})
        assert r.status_code == 200, r.text
        offer = r.json()
        assert offer["mapId"] == "planet-0" and offer["endpoint"].startswith("ws://127.0.0.1")
        assert isinstance(offer["characterId"], int) and not offer["disposable"]
        ticket = offer["ticket"]

        r = await c.post("/orch/redeem-join-ticket", json={"mapId": "planet-1",
                                                           "token": ticket})
        assert r.status_code == 403 and r.json()["reason"] == "WRONG_TARGET"
        r = await c.post("/orch/redeem-join-ticket", json={"mapId": "planet-0",
                                                           "token": ticket})
        assert r.status_code == 200, r.text
        joined = r.json()
        key, epoch = joined["characterKey"], joined["epoch"]
        assert RAW_KEY not in key and len(key) == 64
        r = await c.post("/orch/redeem-join-ticket", json={"mapId": "planet-0",
                                                           "token": ticket})
        assert r.status_code == 403
        assert r.json() == {"error": "denied", "reason": "REPLAYED",
                            "detail": "token already used", "rebootstrap": "/orch/bootstrap"}

        r = await c.post("/orch/request-transfer", json={
            "characterKey": key, "characterId": offer["characterId"],
            "fromMapId": "planet-0", "toMapId": "planet-1"})
        assert r.status_code == 200, r.text
        tr = r.json()
        assert orch.supervisor.spawner.spawned == ["planet-0", "planet-1"]  # lazily spawned
        r = await c.post("/orch/redeem-transfer-token", json={"mapId": "planet-1",
                                                              "token": tr["token"]})
        # accepted by the destination, then released by the source (asked by the
        # orchestrator through /control/release-character)
        assert r.status_code == 200 and r.json()["transferState"] == "source_released"
        assert orch.released == [("planet-0", tr["transferId"])]
        t = orch.transfers.get(tr["transferId"])
        assert t.state is TransferState.SOURCE_RELEASED
        assert t.history[-1] is TransferState.DESTINATION_ACCEPTED
        r = await c.post("/orch/redeem-transfer-token", json={"mapId": "planet-1",
                                                              "token": tr["token"]})
        assert r.status_code == 403 and r.json()["reason"] == "REPLAYED"
        r = await c.post("/orch/transfer-result", json={
            "transferId": tr["transferId"], "mapId": "planet-0", "phase": "released",
            "epoch": epoch})
        assert r.status_code == 409 and r.json()["reason"] == "ILLEGAL_TRANSITION"
        r = await c.post("/orch/transfer-result", json={
            "transferId": tr["transferId"], "mapId": "planet-1", "phase": "completed"})
        assert r.status_code == 200
        assert r.json()["lease"]["mapId"] == "planet-1" and r.json()["lease"]["epoch"] > epoch
        new_epoch = r.json()["lease"]["epoch"]

        # snapshots of the character are fenced by the lease epoch
        snap = {"mapId": "planet-0", "instanceId": "i1", "partition": f"character:{key}",
                "revision": 1, "payloadB64": base64.b64encode(b"state").decode(),
                "epoch": epoch}
        r = await c.post("/orch/persist-snapshot", json=snap)
        assert r.status_code == 409 and r.json()["reason"] == "STALE_EPOCH"
        snap |= {"mapId": "planet-1", "epoch": new_epoch}
        assert (await c.post("/orch/persist-snapshot", json=snap)).json() == \
            {"result": "accepted"}
        assert (await c.post("/orch/persist-snapshot", json=snap)).json() == \
            {"result": "duplicate"}
        # a map's flush: one batch; a stale character epoch refuses only its own item
        item = {k: v for k, v in snap.items() if k != "mapId"} | {"instanceId": "i8"}
        r = await c.post("/orch/persist-snapshots", json={"mapId": "planet-1", "items": [
            item | {"revision": 5}, item | {"epoch": epoch, "revision": 6},
            item | {"partition": "chunk:1,2,3", "epoch": None, "instanceId": "i9"},
            item | {"revision": 4}]})
        assert r.json() == {"results": ["accepted", "refused:STALE_EPOCH", "accepted",
                                        "stale"]}

        body = {"eventId": "ev-1", "instanceId": "i1", "partition": f"character:{key}",
                "revision": 2, "kind": "pickup", "payload": {"item": "ore"},
                "inventoryOps": [{"characterKey": key, "slot": 0, "itemKind": "ore",
                                  "delta": 3}]}
        a1 = (await c.post("/orch/persist-critical-event", json=body)).json()
        a2 = (await c.post("/orch/persist-critical-event", json=body)).json()
        assert a1["seq"] == a2["seq"] and not a1["duplicate"] and a2["duplicate"]
        body |= {"eventId": "ev-2", "inventoryOps": [{"characterKey": key, "slot": 0,
                                                      "itemKind": "ore", "delta": -9}]}
        r = await c.post("/orch/persist-critical-event", json=body)
        assert r.status_code == 409 and r.json()["reason"] == "InventoryUnderflowError"

        await orch.ledger.call(orch.ledger.ledger.checkpoint)
        body |= {"eventId": "ev-3", "revision": 5, "inventoryOps": []}
        await c.post("/orch/persist-critical-event", json=body)
        r = (await c.post("/orch/rehydrate", json={"mapId": "planet-1",
                                                   "instanceId": "i1"})).json()
        assert [s["partition"] for s in r["snapshots"]] == [f"character:{key}"]
        assert base64.b64decode(r["snapshots"][0]["payloadB64"]) == b"state"
        assert [e["eventId"] for e in r["events"]] == ["ev-1", "ev-3"]
    assert orch.ledger.ledger.transfer_state(tr["transferId"]) == "completed"
    assert not any(RAW_KEY in rec.getMessage() or RAW_KEY in str(rec.__dict__)
                   for rec in caplog.records)


async def test_disposable_bootstrap_and_expired_ticket(orch):
    async with client(create_public_app(orch), secret=None) as pub, \
            client(create_control_app(orch)) as c:
        offer = (await pub.post("/orch/bootstrap", json={})).json()
        assert offer["disposable"] and offer["characterId"] is None
        orch.tokens.clock_ms = lambda: offer["expiresAtMs"]  # time passes
        r = await c.post("/orch/redeem-join-ticket", json={"mapId": "planet-0",
                                                           "token": offer["ticket"]})
        assert r.status_code == 403 and r.json()["reason"] == "EXPIRED"
        assert r.json()["rebootstrap"] == "/orch/bootstrap"
        r = await c.post("/orch/redeem-join-ticket", json={"mapId": "planet-0",
                                                           "token": "garbage"})
        assert r.json()["reason"] == "MALFORMED"


async def test_transfer_to_quarantined_map_fails_fast(orch):
    async with client(create_public_app(orch), secret=None) as pub, \
            client(create_control_app(orch)) as c:
        offer = (await pub.post("/orch/bootstrap", json={"authKey": RAW_KEY})).json()
        key = (await c.post("/orch/redeem-join-ticket", json={
            "mapId": "planet-0", "token": offer["ticket"]})).json()["characterKey"]
        await orch.ensure_map("planet-1")
        e = orch.supervisor.maps["planet-1"]
        e.state, e.quarantined_until_ms = MapState.QUARANTINED, 10**15
        r = await c.post("/orch/request-transfer", json={
            "characterKey": key, "fromMapId": "planet-0", "toMapId": "planet-1"})
        assert r.status_code == 503 and r.json()["reason"] == "QUARANTINED"
        assert int(r.headers["Retry-After"]) > 0
        r = await c.post("/orch/request-transfer", json={
            "characterKey": key, "fromMapId": "planet-0", "toMapId": "moon-x"})
        assert r.status_code == 503 and r.json()["reason"] == "UNKNOWN_MAP"


class FakeMap:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    async def start_instance(self, config: MapConfig):
        self.calls.append(("start", config.instance_id))
        return {"instanceId": config.instance_id}

    async def stop_instance(self, instance_id):
        self.calls.append(("stop", instance_id))
        return {"ok": True}

    async def validate_join_ticket(self, notice):
        self.calls.append(("join", notice.join_id))
        return {"ok": True}

    async def prepare_incoming_transfer(self, notice):
        self.calls.append(("prepare", notice.transfer_id))
        return {"ok": True}

    async def ack_transfer_complete(self, transfer_id, epoch):
        self.calls.append(("ack", (transfer_id, epoch)))
        return {"ok": True}

    async def release_character(self, transfer_id, character_key):
        self.calls.append(("release", character_key))
        return {"ok": True}

    async def health(self):
        return {"status": "ok", "role": "map"}


async def test_map_control_app():
    fake = FakeMap()
    app = create_map_control_app(fake, SECRET)
    cfg = generate_map_config(1, 0)
    async with client(app) as c:
        assert (await c.get("/health")).json()["role"] == "map"
        r = await c.post("/control/start-instance", content=cfg.to_json(),
                         headers={"content-type": "application/json"})
        assert r.status_code == 200 and r.json()["instanceId"] == cfg.instance_id
        await c.post("/control/stop-instance", json={"instanceId": "i"})
        await c.post("/control/validate-join-ticket", json={
            "joinId": "j", "characterKey": "k", "expiresAtMs": 1})
        await c.post("/control/prepare-incoming-transfer", json={
            "transferId": "t", "characterKey": "k", "fromMapId": "planet-0",
            "expiresAtMs": 1})
        await c.post("/control/ack-transfer-complete", json={"transferId": "t", "epoch": 3})
        await c.post("/control/release-character", json={"transferId": "t",
                                                          "characterKey": "k"})
        r = await c.post("/control/stop-instance", json={"instanceId": "i", "bogus": 1})
        assert r.status_code == 422
    assert [k for k, _ in fake.calls] == ["start", "stop", "join", "prepare", "ack", "release"]
    async with client(app, host="10.1.1.1") as c:
        assert (await c.post("/control/stop-instance", json={"instanceId": "i"})
                ).status_code == 403
    assert fake.calls[-1][0] == "release"


async def test_destination_crash_mid_transfer_returns_to_source(orch):
    async with client(create_public_app(orch), secret=None) as pub, \
            client(create_control_app(orch)) as c:
        offer = (await pub.post("/orch/bootstrap", json={"authKey": RAW_KEY})).json()
        joined = (await c.post("/orch/redeem-join-ticket", json={
            "mapId": "planet-0", "token": offer["ticket"]})).json()
        tr = (await c.post("/orch/request-transfer", json={
            "characterKey": joined["characterKey"], "fromMapId": "planet-0",
            "toMapId": "planet-2"})).json()
        await c.post("/orch/redeem-transfer-token", json={"mapId": "planet-2",
                                                          "token": tr["token"]})
        orch.supervisor.maps["planet-2"].handle.returncode = -9  # the process died
        await orch.supervisor.tick()
        await asyncio.sleep(0.05)  # the ledger records the abort
        t = orch.transfers.get(tr["transferId"])
        assert t.state.value == "aborted" and t.fallback.map_id == "planet-0"
        # the source had released (on redeem): it gets a fresh lease and a join ticket
        held = orch.registry.holder(joined["characterKey"])
        assert held.map_id == "planet-0" and held.epoch > joined["epoch"]
        assert t.fallback.join_ticket is not None
        assert orch.supervisor.is_available("planet-0")
        assert orch.ledger.ledger.transfer_state(tr["transferId"]) == "aborted"
        r = await c.post("/orch/transfer-result", json={
            "transferId": tr["transferId"], "mapId": "planet-0", "phase": "released",
            "epoch": joined["epoch"]})
        assert r.status_code == 409


async def test_bootstrap_is_rate_limited_per_address(orch):
    """Every new auth key creates a character: one address gets ``bootstrap_burst`` at once,
    then 429 with Retry-After; another address is unaffected."""
    app = create_public_app(orch)
    burst = orch.settings.bootstrap_burst
    async with client(app, host="198.51.100.7", secret=None) as pub:
        codes = [(await pub.post("/orch/bootstrap", json={"authKey": f"k{i}"})).status_code
                 for i in range(burst + 3)]
        assert codes[:burst] == [200] * burst and codes[burst:] == [429] * 3
        r = await pub.post("/orch/bootstrap", json={})
        assert r.status_code == 429 and r.json()["reason"] == "RATE_LIMITED"
        assert r.json()["retryAfterMs"] > 0 and int(r.headers["Retry-After"]) >= 1
    async with client(app, host="198.51.100.8", secret=None) as other:
        assert (await other.post("/orch/bootstrap", json={})).status_code == 200
        r = await other.get("/health")  # public liveness: no secret needed, none shown
        assert r.status_code == 200 and r.json()["maps"] == {"planet-0": "healthy"}
