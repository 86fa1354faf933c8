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
