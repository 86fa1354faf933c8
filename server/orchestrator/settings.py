"""Orchestrator tunables: one pydantic-settings class, environment prefix ``PLANET_ORCH_``.

Every value of seed 004's "Recommended Initial Tunables" is here with the seed's default
(the seed's names in the left column; set them as ``PLANET_ORCH_<FIELD>``, e.g.
``PLANET_ORCH_TRANSFER_TOKEN_TTL_MS=5000``):

=================================  ==================================  =========
seed 004 line                      field                               default
=================================  ==================================  =========
``ORCH_CHECKPOINT_MS``             ``checkpoint_ms``                   300000
``ORCH_TRANSFER_TOKEN_TTL_MS``     ``transfer_token_ttl_ms``           10000
``ORCH_JOIN_TICKET_TTL_MS``        ``join_ticket_ttl_ms``              10000
``ORCH_HEARTBEAT_TIMEOUT_MS``      ``heartbeat_timeout_ms``            15000
``MAP_HEARTBEAT_MS``               ``map_heartbeat_ms``                5000
``MAP_SNAPSHOT_PUSH_MS``           ``map_snapshot_push_ms``            10000
``ORCH_MAP_RESTART_WINDOW_MS``     ``map_restart_window_ms``           60000
``ORCH_MAP_RESTART_MAX_IN_WINDOW`` ``map_restart_max_in_window``       3
``ORCH_MAP_QUARANTINE_MS``         ``map_quarantine_ms``               60000
``ORCH_INTERNAL_RPC_SECRET``       ``internal_rpc_secret``             random (32 bytes)
``MAP_CONTROL_PORT_BASE``          ``map_control_port_base``           9100
=================================  ==================================  =========

Our additions (not in the seed): the host secret that signs tickets and tokens, the
host salt of auth-key hashes, the transfer deadline, the restart backoff curve, the
loopback control address, the default map and the database URL.

Raises:
    pydantic.ValidationError: a value out of range, or a control host that is not a
    loopback address (the control RPC must never listen on a public interface).
"""

from __future__ import annotations

import ipaddress
import secrets

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK_HOSTS: frozenset[str] = frozenset({"127.0.0.1", "::1", "localhost"})


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and any loopback IP (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _random_secret() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(32))


class OrchestratorSettings(BaseSettings):
    """Everything the orchestrator and its map processes are told. Units in the names."""

    model_config = SettingsConfigDict(env_prefix="PLANET_ORCH_", extra="ignore", frozen=True)

    # --- seed 004, Recommended Initial Tunables ---------------------------------------
    checkpoint_ms: int = Field(300_000, ge=100, description="ORCH_CHECKPOINT_MS")
    transfer_token_ttl_ms: int = Field(10_000, ge=100, le=60_000,
                                       description="ORCH_TRANSFER_TOKEN_TTL_MS")
    join_ticket_ttl_ms: int = Field(10_000, ge=100, le=60_000,
                                    description="ORCH_JOIN_TICKET_TTL_MS")
    heartbeat_timeout_ms: int = Field(15_000, ge=10, description="ORCH_HEARTBEAT_TIMEOUT_MS")
    map_heartbeat_ms: int = Field(5_000, ge=10, description="MAP_HEARTBEAT_MS")
    map_snapshot_push_ms: int = Field(10_000, ge=10, description="MAP_SNAPSHOT_PUSH_MS")
    map_restart_window_ms: int = Field(60_000, ge=10, description="ORCH_MAP_RESTART_WINDOW_MS")
    map_restart_max_in_window: int = Field(3, ge=0,
                                           description="ORCH_MAP_RESTART_MAX_IN_WINDOW")
    map_quarantine_ms: int = Field(60_000, ge=10, description="ORCH_MAP_QUARANTINE_MS")
    internal_rpc_secret: SecretStr = Field(default_factory=_random_secret,
                                           description="ORCH_INTERNAL_RPC_SECRET")
    map_control_port_base: int = Field(
        9100, ge=0, le=65000,
        description="MAP_CONTROL_PORT_BASE; map i listens on base + i (0: any free port)")

    # --- ours ----------------------------------------------------------------------------
    host_secret: SecretStr = Field(default_factory=_random_secret,
                                   description="HMAC key of join tickets / transfer tokens")
    host_salt: SecretStr = Field(default_factory=_random_secret,
                                 description="HMAC key of auth-key hashes; persist it")
    transfer_timeout_ms: int = Field(15_000, ge=100,
                                     description="a transfer not completed by then aborts")
    restart_backoff_initial_ms: int = Field(250, ge=0)
    restart_backoff_max_ms: int = Field(8_000, ge=0)
    supervisor_poll_ms: int = Field(200, ge=5)
    control_host: str = Field("127.0.0.1", description="loopback address of the control RPC")
    orch_control_port: int = Field(9099, ge=0, le=65535,
                                   description="the orchestrator's control app (0: any)")
    map_game_port_base: int = Field(
        0, ge=0, le=65000, description="map i's game WebSocket port = base + i (0: any free "
        "port; set it when a firewall must know the ports)")
    advertise_host: str | None = Field(
        None, description="host in the game endpoints given to clients (default: the bind "
        "host; 127.0.0.1 for a wildcard bind)")
    world_seed: int = Field(1, ge=0, le=(1 << 63) - 1)
    default_planet_index: int = Field(0, ge=0, le=64)
    database_url: str | None = Field(None, description="SQLAlchemy URL of the ledger")
    rebootstrap_path: str = "/orch/bootstrap"
    bootstrap_rate_per_s: float = Field(
        5.0, gt=0, description="bootstraps per second per client address (429 beyond)")
    bootstrap_burst: int = Field(20, ge=1, description="bootstrap burst per client address")

    @field_validator("control_host")
    @classmethod
    def _loopback_only(cls, v: str) -> str:
        if not is_loopback(v):
            raise ValueError(f"control RPC must bind to a loopback address, not {v!r}")
        return v

    def secret_bytes(self) -> bytes:
        return self.host_secret.get_secret_value().encode()

    def salt_bytes(self) -> bytes:
        return self.host_salt.get_secret_value().encode()


def load_orchestrator_settings(**overrides: object) -> OrchestratorSettings:
    """``PLANET_ORCH_*`` environment + defaults, with ``overrides`` on top.

    Raises:
        pydantic.ValidationError: a value is out of range (see the class).
    """
    return OrchestratorSettings(**overrides)  # type: ignore[arg-type]
