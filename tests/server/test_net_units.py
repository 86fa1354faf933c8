"""Units of the net layer and the CLI: token bucket, area of interest, settings."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from server.__main__ import build_parser, main
from server.config import Settings
from server.net.aoi import (
    chunk_distance2,
    chunk_of,
    chunks_in_radius,
    nearest_first,
    neighbours_within,
)
from server.net.ratelimit import TokenBucket


def test_token_bucket_refill_cap_and_debt() -> None:
    b = TokenBucket(rate=100.0, capacity=50.0, now=0.0)
    assert b.try_take(50, 0.0) and not b.try_take(1, 0.0)
    assert b.refill(0.1) == pytest.approx(10.0)
    b.charge(30)
    assert b.tokens == pytest.approx(-20.0)
    assert not b.try_take(1, 0.2)  # debt of 20 repaid by 0.2 s -> 0 tokens
    assert b.refill(10.0) == 50.0  # capped
    with pytest.raises(ValueError):
        TokenBucket(0, 10, 0.0)


def test_chunk_of_and_distances() -> None:
    assert chunk_of((0.0, 15.99, -0.01)) == (0, 0, -1)
    assert chunk_of((16.0, -16.0, 32.5)) == (1, -1, 2)
    assert chunk_distance2((1, 2, 3), (0, 0, 0)) == 14


def test_chunks_in_radius_nearest_first() -> None:
    cs = chunks_in_radius((5, 5, 5), 2)
    assert cs[0] == (5, 5, 5)
    assert len(cs) == len(set(cs)) == 33  # lattice points within a ball of radius 2
    d = [chunk_distance2(c, (5, 5, 5)) for c in cs]
    assert d == sorted(d) and max(d) == 4
    assert nearest_first([(9, 0, 0), (1, 0, 0), (0, 3, 0)], (0, 0, 0))[0] == (1, 0, 0)


def test_neighbours_within() -> None:
    p = np.array([[0, 0, 0], [10, 0, 0], [100, 0, 0]], dtype=float)
    assert neighbours_within(p, 20.0) == [[1], [0], []]
    assert neighbours_within(np.zeros((0, 3)), 5.0) == []


def test_settings_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANET_PORT", "9001")
    monkeypatch.setenv("PLANET_WORLD_SEED", "77")
    s = Settings()
    assert s.port == 9001 and s.world_seed == 77 and s.tick_rate_hz == 20
    assert Settings(port=9100).port == 9100  # init (flags) beat the environment
    monkeypatch.setenv("PLANET_PORT", "70000")
    with pytest.raises(ValidationError):
        Settings()


def test_cli_flags_only_override_what_is_given() -> None:
    args = vars(build_parser().parse_args(["serve", "--port", "0", "--world-seed", "5"]))
    assert args == {"command": "serve", "port": 0, "world_seed": 5}


def test_cli_rejects_bad_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "-3"]) == 2
    assert "invalid settings" in capsys.readouterr().err


def test_json_lines_formatter_includes_fields() -> None:
    import json
    import logging

    from server.logging import JsonLinesFormatter

    rec = logging.LogRecord("server.net", logging.INFO, __file__, 1, "joined", None, None)
    rec.fields = {"player": 7, "persistent": True}
    out = json.loads(JsonLinesFormatter().format(rec))
    assert out["event"] == "joined" and out["level"] == "INFO" and out["logger"] == "server.net"
    assert out["player"] == 7 and out["persistent"] is True and isinstance(out["ts"], float)
