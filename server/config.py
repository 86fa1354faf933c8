"""Server settings: one pydantic-settings class fed by flags, environment and defaults.

Precedence (highest first): command-line flags (passed as init arguments by
``server.__main__``), environment variables ``PLANET_<FIELD>`` (e.g. ``PLANET_PORT=7777``,
``PLANET_DATA_DIR=/srv/planet``), then the defaults below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the server process can be told. Units are in the field names.

    Raises:
        pydantic.ValidationError: a value is out of range or of the wrong type.
    """

    model_config = SettingsConfigDict(env_prefix="PLANET_", extra="ignore", frozen=True)

    data_dir: Path = Field(Path("data"), description="holds world.db (SQLite, WAL mode)")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/world.db")
    host: str = "127.0.0.1"
    port: int = Field(7777, ge=0, le=65535, description="0 = pick a free port (logged)")
    world_seed: int = Field(1, ge=0, le=(1 << 63) - 1)
    planet_index: int = Field(0, ge=0, le=64)
    server_name: str = Field("planet-server", max_length=64)
    tick_rate_hz: int = Field(20, ge=1, le=120)
    max_players: int = Field(256, ge=1, le=4096)
    max_frame_bytes: int = Field(65536, ge=1024, le=1 << 24,
                                 description="largest frame accepted from a client")
    view_radius_chunks: int = Field(4, ge=1, le=16,
                                    description="chunks within this distance may be subscribed")
    subscribe_margin_chunks: int = Field(
        2, ge=0, le=8, description="hysteresis: subscriptions drop beyond view+margin")
    max_subscriptions: int = Field(4096, ge=1)
    stream_bytes_per_s: int = Field(32768, ge=1024,
                                    description="per-client budget for chunk states+deltas")
    stream_burst_bytes: int = Field(65536, ge=1024)
    delta_push: Literal["tick", "immediate"] = Field(
        "tick", description="tick: changed chunks are pushed once per tick (coalesced per "
        "tick); immediate: right after the edits handled in one event-loop pass")
    player_aoi_m: float = Field(64.0, gt=0, description="players relayed within this distance")
    max_messages_per_s: float = Field(200.0, gt=0, description="per-client inbound rate")
    message_burst: int = Field(400, ge=1)
    send_queue_frames: int = Field(1024, ge=16, description="slow consumers beyond are closed")
    handshake_timeout_s: float = Field(10.0, gt=0)
    flush_interval_s: float = Field(5.0, gt=0, description="world write-behind debounce, seconds")
    stats_interval_s: float = Field(10.0, gt=0, description="period of tick_stats log lines")
    log_level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
