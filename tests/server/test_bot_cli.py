"""``planet-bot`` against a real server: bounded, joins, walks, edits, reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.mark.parametrize("procs", [1, 2])
def test_bots_join_walk_dig_and_report(start_server: Any, procs: int) -> None:
    srv = start_server()
    out = subprocess.run(
        [sys.executable, "-m", "server.client.bot", "--url", srv.url, "--count", "4",
         "--duration", "6", "--warmup", "2", "--spread", "20", "--edit-interval", "1",
         "--ramp", "0.5", "--procs", str(procs), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout.strip().splitlines()[-1])
    assert s["joined"] == 4 and not s["failures"]
    assert s["edits_sent"] >= 8 and s["edits_accepted"] >= 4
    assert s["chunk_states"] > 100 and s["player_state_frames"] > 0
    assert s["edit_to_peer_samples"] > 0 and s["edit_to_peer_ms_p50"] < 1000
    assert s["bytes_in"] > 0 and s["bytes_out"] > 0
    assert s["close_codes"] == {"1000": 4}
    assert srv.alive()


# ---- --url scheme dispatch: http(s) = orchestrator (bootstrap + JOIN_WITH_TICKET) -------


def test_url_scheme_dispatch() -> None:
    from server.client.bot import main, uses_orchestrator

    assert uses_orchestrator("http://127.0.0.1:7777") and uses_orchestrator("HTTPS://h")
    assert not uses_orchestrator("ws://127.0.0.1:7777") and not uses_orchestrator("wss://h")
    with pytest.raises(ValueError):
        uses_orchestrator("127.0.0.1:7777")
    assert main(["--url", "tcp://h:1", "--count", "1", "--duration", "1"]) == 2


async def test_http_url_bots_bootstrap_and_join_with_ticket(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each bot bootstraps with its own key and joins the offered endpoint with its ticket;
    a ws:// URL still sends JOIN (which a map process refuses with 4010)."""
    from test_client_orchestrator_flow import FakeMap

    from server.client import JoinOffer, bot
    from server.protocol import Join, JoinWithTicket

    home = await FakeMap("planet-0").start()
    calls: list[tuple[str, str | None]] = []

    async def fake_bootstrap(base_url: str, auth_key: str | None = None, *,
                             timeout: float = 10.0) -> JoinOffer:
        calls.append((base_url, auth_key))
        ticket = f"jt.{auth_key}"
        home.tickets[ticket] = 1
        return JoinOffer(ticket, "planet-0", home.url, 0, 1, False)

    monkeypatch.setattr(bot, "bootstrap", fake_bootstrap)
    common = ["--count", "2", "--duration", "0.8", "--ramp", "0", "--spread", "0",
              "--edit-interval", "100", "--warmup", "0.2", "--persistent"]
    try:
        args = bot.build_parser().parse_args(["--url", "http://orch.test:7777", *common])
        stats, _, _ = await bot.play(args)
        assert [s.joined for s in stats] == [True, True], [s.failure for s in stats]
        assert sorted(calls) == [("http://orch.test:7777", "bot-1-0"),
                                 ("http://orch.test:7777", "bot-1-1")]
        tickets = sorted(m.ticket for m in home.received if isinstance(m, JoinWithTicket))
        assert tickets == ["jt.bot-1-0", "jt.bot-1-1"]
        assert not any(isinstance(m, Join) for m in home.received)
        assert [s.close_code for s in stats] == [1000, 1000]

        calls.clear()
        args = bot.build_parser().parse_args(["--url", home.url, *common])
        stats, _, _ = await bot.play(args)
        assert calls == []
        assert sorted(m.auth_key for m in home.received if isinstance(m, Join)) == [
            "bot-1-0", "bot-1-1"]
        assert all(not s.joined and s.close_code == 4010 for s in stats)
    finally:
        await home.stop()


async def test_bot_bootstrap_retries_unreachable_and_503(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import httpx

    from server.client import ClientError, JoinOffer, bot

    offer = JoinOffer("t", "planet-0", "ws://127.0.0.1:1", 0, None, True)
    answers: list[BaseException | JoinOffer] = [
        httpx.ConnectError("refused"),
        ClientError("busy", 503, "restarting", retry_after_ms=50),
        offer,
    ]

    async def fake_bootstrap(base_url: str, auth_key: str | None = None, *,
                             timeout: float = 10.0) -> JoinOffer:
        a = answers.pop(0)
        if isinstance(a, BaseException):
            raise a
        return a

    monkeypatch.setattr(bot, "bootstrap", fake_bootstrap)
    b = bot.Bot(0, bot.build_parser().parse_args(["--url", "http://h"]), bot.Shared())
    assert await b._bootstrap(None, time.monotonic() + 5) == offer and answers == []
    answers[:] = [ClientError("bad", 422, "bad body")]
    with pytest.raises(ClientError):
        await b._bootstrap(None, time.monotonic() + 5)
