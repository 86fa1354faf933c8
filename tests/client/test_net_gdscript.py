"""The client network layer's GDScript tests (godot_project/tests/test_net_*.gd), from pytest.

They cover the codec against the golden frames shared with the Python tests
(tests/server/golden_frames.json: each frame decodes to its fields and re-encodes to the same
bytes, and the fields encode to the same bytes), malformed frames and random / mutated bytes
(null with the right close code, never a crash; on 1260 mutated golden frames the same
verdict and close code as the Python decoder), the session state machine of the network
owner node, the three delta payload formats against payloads made here with the server's
world code, the prediction formulas bit for bit against server.world.csg, reconciliation
(a rejected edit restores the voxels exactly), the avatars' interpolation and the session
glue (server chunk states and deltas into the terrain, stale versions, corrupt payloads).
"""

from __future__ import annotations

import os
import re

import pytest
from godot_support import REPO_ROOT, Godot, parse_summary, run_gdscript_tests
from net_fixtures import write_net_fixtures

EXPECTED_FILES = ("test_net_codec", "test_net_client", "test_net_delta", "test_net_reconcile",
                  "test_net_avatars", "test_net_session")


@pytest.mark.timeout(600)
def test_net_gdscript_suite_passes(godot: Godot) -> None:
    write_net_fixtures()
    golden = REPO_ROOT / "tests" / "server" / "golden_frames.json"
    proc = run_gdscript_tests("--filter", "test_net_", timeout=300,
                              env={"PS_GOLDEN_FRAMES": os.fspath(golden)})
    log = f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr[-3000:]}"
    summary = parse_summary(proc.stdout)
    assert summary is not None, log
    passed, failed = summary
    assert failed == 0 and proc.returncode == 0, log
    assert passed >= 40, log
    for name in EXPECTED_FILES:
        assert re.search(rf"^PASS {name}\.", proc.stdout, re.MULTILINE), f"{name} missing\n{log}"
