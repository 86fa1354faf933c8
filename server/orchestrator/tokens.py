"""Join tickets and transfer tokens (seed 004): signed, one-time, short-lived, bound.

Wire form (compact, URL-safe)::

    <kind> "." base64url(claims JSON, no padding) "." base64url(HMAC-SHA256, no padding)

``kind`` is ``jt`` (JoinTicket) or ``tt`` (TransferToken); the MAC covers
``kind "." payload`` with the host secret. Claims use the seed's names:

* JoinTicket: ``joinId, authKeyHash, characterId, targetMapId, issuedAtMs, expiresAtMs,
  nonce``
* TransferToken: ``transferId, authKeyHash, characterId, fromMapId, toMapId, issuedAtMs,
  expiresAtMs, nonce``

``authKeyHash`` is ``auth_key_hash(host_salt, key)`` (64 hex) or, for a disposable
session, ``"session:<32 hex>"``; ``characterId`` is null for disposable sessions.

Verification order: shape (MALFORMED) -> MAC (BAD_SIGNATURE, constant-time) -> claims
(MALFORMED, WRONG_KIND) -> time (EXPIRED) -> binding (WRONG_TARGET, WRONG_CHARACTER) ->
one-time use (REPLAYED). A token is consumed only when every other check passed; its
nonce is remembered until the token expires (after that EXPIRED answers).

Errors: :class:`TokenDenied` carries a :class:`DenialReason` and the re-bootstrap path;
``denial.to_json()`` is the structured body the RPC returns.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

DISPOSABLE_PREFIX = "session:"
REBOOTSTRAP_PATH = "/orch/bootstrap"
MAX_TOKEN_CHARS = 2048
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


def now_ms() -> int:
    """Wall clock in integer milliseconds (claims are wall-clock times)."""
    return time.time_ns() // 1_000_000


def auth_key_hash(host_salt: bytes, key: str) -> str:
    """``HMAC-SHA256(host_salt, key utf-8)`` as 64 hex chars. Log this, never ``key``."""
    return hmac.new(host_salt, key.encode("utf-8"), hashlib.sha256).hexdigest()


def disposable_identity() -> str:
    """A fresh disposable session identity (``session:`` + 32 hex)."""
    return DISPOSABLE_PREFIX + secrets.token_hex(16)


class _Unchecked:
    """Type of :data:`UNCHECKED`: "do not check the character binding"."""


UNCHECKED = _Unchecked()


class DenialReason(StrEnum):
    """Why a ticket or token was refused (stable strings on the wire)."""

    MALFORMED = "MALFORMED"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    WRONG_KIND = "WRONG_KIND"
    EXPIRED = "EXPIRED"
    WRONG_TARGET = "WRONG_TARGET"
    WRONG_CHARACTER = "WRONG_CHARACTER"
    REPLAYED = "REPLAYED"
    #: The transfer the token belongs to is no longer in a state that accepts it.
    TRANSFER_NOT_ACTIVE = "TRANSFER_NOT_ACTIVE"
    #: The target map is quarantined / restarting (see supervisor.Unavailable).
    MAP_UNAVAILABLE = "MAP_UNAVAILABLE"


class TokenDenied(Exception):  # noqa: N818 - a denial, not a bug
    """A refused ticket/token: ``reason``, a human ``detail``, the re-bootstrap path."""

    def __init__(self, reason: DenialReason, detail: str = "",
                 rebootstrap: str = REBOOTSTRAP_PATH) -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail
        self.rebootstrap = rebootstrap

    def to_json(self) -> dict[str, str]:
        return {"error": "denied", "reason": self.reason.value, "detail": self.detail,
                "rebootstrap": self.rebootstrap}


class _Claims(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True,
                              extra="forbid")
    KIND: ClassVar[str] = ""

    auth_key_hash: str = Field(min_length=1, max_length=80)
    character_id: int | None
    issued_at_ms: int
    expires_at_ms: int
    nonce: str = Field(min_length=16, max_length=64)

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()


class JoinTicket(_Claims):
    """Claims of a join ticket (initial entry to ``target_map_id``)."""

    KIND: ClassVar[str] = "jt"
    join_id: str = Field(min_length=1, max_length=64)
    target_map_id: str = Field(min_length=1, max_length=128)


class TransferToken(_Claims):
    """Claims of a transfer token (handoff ``from_map_id`` -> ``to_map_id``)."""

    KIND: ClassVar[str] = "tt"
    transfer_id: str = Field(min_length=1, max_length=64)
    from_map_id: str = Field(min_length=1, max_length=128)
    to_map_id: str = Field(min_length=1, max_length=128)

    @property
    def target_map_id(self) -> str:
        return self.to_map_id


_KINDS: dict[str, type[_Claims]] = {"jt": JoinTicket, "tt": TransferToken}


def _b64e(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def _b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def encode(claims: _Claims, secret: bytes) -> str:
    """The wire form of ``claims`` signed with ``secret``."""
    head = f"{claims.KIND}.{_b64e(claims.to_json_bytes())}"
    mac = hmac.new(secret, head.encode("ascii"), hashlib.sha256).digest()
    return f"{head}.{_b64e(mac)}"


def decode(token: str, secret: bytes) -> _Claims:
    """Check shape and MAC and parse the claims (no time, binding or replay checks).

    Raises:
        TokenDenied: MALFORMED or BAD_SIGNATURE.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise TokenDenied(DenialReason.MALFORMED, "not <kind>.<claims>.<mac>")
    kind, payload, mac_text = token.split(".")
    if not (_B64URL.fullmatch(payload) and _B64URL.fullmatch(mac_text)):
        raise TokenDenied(DenialReason.MALFORMED, "bad base64url")
    cls = _KINDS.get(kind)
    if cls is None:
        raise TokenDenied(DenialReason.MALFORMED, "unknown token kind")
    try:
        mac = _b64d(mac_text)
        raw = _b64d(payload)
    except (binascii.Error, ValueError) as e:
        raise TokenDenied(DenialReason.MALFORMED, "bad base64") from e
    expected = hmac.new(secret, f"{kind}.{payload}".encode("ascii", "replace"),
                        hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise TokenDenied(DenialReason.BAD_SIGNATURE, "MAC mismatch")
    try:
        claims = cls.model_validate_json(raw)
    except ValidationError as e:
        raise TokenDenied(DenialReason.MALFORMED, "bad claims") from e
    if claims.expires_at_ms < claims.issued_at_ms:
        raise TokenDenied(DenialReason.MALFORMED, "expires before issued")
    return claims


class NonceStore:
    """Consumed nonces, each kept until its token's expiry (then EXPIRED covers it)."""

    def __init__(self) -> None:
        self._expiry: dict[str, int] = {}
        self._next_sweep = 0

    def __len__(self) -> int:
        return len(self._expiry)

    def consume(self, nonce: str, expires_at_ms: int, now: int) -> bool:
        """Mark ``nonce`` used; False if it already was (a replay)."""
        if now >= self._next_sweep:
            self.sweep(now)
            self._next_sweep = now + 1000
        if nonce in self._expiry:
            return False
        self._expiry[nonce] = expires_at_ms
        return True

    def sweep(self, now: int) -> None:
        """Forget nonces of tokens that expired before ``now``."""
        dead = [n for n, exp in self._expiry.items() if exp < now]
        for n in dead:
            del self._expiry[n]


@dataclass
class TokenService:
    """Mints and verifies tickets/tokens. One instance per host (owns the nonce store).

    Args:
        secret: host secret (HMAC key).
        join_ttl_ms / transfer_ttl_ms: lifetimes (seed: 10 000 ms each).
        clock_ms: wall clock in ms (injectable for tests).
    """

    secret: bytes
    join_ttl_ms: int = 10_000
    transfer_ttl_ms: int = 10_000
    clock_ms: Callable[[], int] = now_ms
    rebootstrap: str = REBOOTSTRAP_PATH

    def __post_init__(self) -> None:
        self.nonces = NonceStore()

    # ---- minting ------------------------------------------------------------------
    def mint_join(self, *, auth_key_hash: str, character_id: int | None,
                  target_map_id: str) -> tuple[JoinTicket, str]:
        now = self.clock_ms()
        t = JoinTicket(join_id=secrets.token_hex(8), auth_key_hash=auth_key_hash,
                       character_id=character_id, target_map_id=target_map_id,
                       issued_at_ms=now, expires_at_ms=now + self.join_ttl_ms,
                       nonce=secrets.token_urlsafe(18))
        return t, encode(t, self.secret)

    def mint_transfer(self, *, transfer_id: str, auth_key_hash: str,
                      character_id: int | None, from_map_id: str,
                      to_map_id: str) -> tuple[TransferToken, str]:
        now = self.clock_ms()
        t = TransferToken(transfer_id=transfer_id, auth_key_hash=auth_key_hash,
                          character_id=character_id, from_map_id=from_map_id,
                          to_map_id=to_map_id, issued_at_ms=now,
                          expires_at_ms=now + self.transfer_ttl_ms,
                          nonce=secrets.token_urlsafe(18))
        return t, encode(t, self.secret)

    # ---- verification -------------------------------------------------------------
    def verify_join(self, token: str, *, map_id: str,
                    character_id: int | _Unchecked | None = UNCHECKED) -> JoinTicket:
        """Verify and consume a join ticket presented to ``map_id``.

        ``character_id`` (optional) must match the claim when given.

        Raises:
            TokenDenied: see the module docstring for the order of checks.
        """
        claims = self._verify(token, JoinTicket, map_id, character_id)
        assert isinstance(claims, JoinTicket)
        return claims

    def verify_transfer(self, token: str, *, map_id: str,
                        character_id: int | _Unchecked | None = UNCHECKED) -> TransferToken:
        """Verify and consume a transfer token presented to destination ``map_id``."""
        claims = self._verify(token, TransferToken, map_id, character_id)
        assert isinstance(claims, TransferToken)
        return claims

    def _deny(self, reason: DenialReason, detail: str) -> TokenDenied:
        return TokenDenied(reason, detail, self.rebootstrap)

    def _verify(self, token: str, kind: type[_Claims], map_id: str,
                character_id: object) -> _Claims:
        try:
            claims = decode(token, self.secret)
        except TokenDenied as e:
            raise self._deny(e.reason, e.detail) from None
        if not isinstance(claims, kind):
            raise self._deny(DenialReason.WRONG_KIND, f"expected {kind.KIND}")
        now = self.clock_ms()
        if now >= claims.expires_at_ms:
            raise self._deny(DenialReason.EXPIRED, f"expired {now - claims.expires_at_ms} ms ago")
        target = claims.target_map_id  # type: ignore[attr-defined]
        if not hmac.compare_digest(str(target).encode(), map_id.encode()):
            raise self._deny(DenialReason.WRONG_TARGET, "token is for another map")
        if not isinstance(character_id, _Unchecked) and character_id != claims.character_id:
            raise self._deny(DenialReason.WRONG_CHARACTER, "token is for another character")
        if not self.nonces.consume(claims.nonce, claims.expires_at_ms, now):
            raise self._deny(DenialReason.REPLAYED, "token already used")
        return claims
