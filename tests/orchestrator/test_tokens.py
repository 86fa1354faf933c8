"""Join tickets and transfer tokens: every denial reason, one-time use, TTL, binding."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from server.orchestrator.tokens import (
    DISPOSABLE_PREFIX,
    REBOOTSTRAP_PATH,
    DenialReason,
    JoinTicket,
    TokenDenied,
    TokenService,
    auth_key_hash,
    decode,
    disposable_identity,
    encode,
)

SECRET = b"host-secret-for-tests"
KEY_HASH = "a" * 64


@pytest.fixture
def svc(clock):
    return TokenService(SECRET, join_ttl_ms=10_000, transfer_ttl_ms=10_000, clock_ms=clock)


def denial(fn, *args, **kw) -> TokenDenied:
    with pytest.raises(TokenDenied) as ei:
        fn(*args, **kw)
    return ei.value


def mint_join(svc, **kw):
    args = {"auth_key_hash": KEY_HASH, "character_id": 7, "target_map_id": "planet-0"} | kw
    return svc.mint_join(**args)


def mint_transfer(svc, **kw):
    args = {"transfer_id": "t1", "auth_key_hash": KEY_HASH, "character_id": 7,
            "from_map_id": "planet-0", "to_map_id": "planet-1"} | kw
    return svc.mint_transfer(**args)


def test_claims_are_exactly_the_seeds(svc):
    _, jt = mint_join(svc)
    _, tt = mint_transfer(svc)
    jclaims = json.loads(base64.urlsafe_b64decode(jt.split(".")[1] + "=="))
    tclaims = json.loads(base64.urlsafe_b64decode(tt.split(".")[1] + "=="))
    assert set(jclaims) == {"joinId", "authKeyHash", "characterId", "targetMapId",
                            "issuedAtMs", "expiresAtMs", "nonce"}
    assert set(tclaims) == {"transferId", "authKeyHash", "characterId", "fromMapId",
                            "toMapId", "issuedAtMs", "expiresAtMs", "nonce"}
    assert jclaims["expiresAtMs"] - jclaims["issuedAtMs"] == 10_000
    assert len(jt) < 400  # compact


def test_valid_join_ticket_is_accepted_once(svc):
    claims, token = mint_join(svc)
    got = svc.verify_join(token, map_id="planet-0", character_id=7)
    assert got == claims
    assert denial(svc.verify_join, token, map_id="planet-0").reason is DenialReason.REPLAYED


def test_transfer_token_is_accepted_once(svc):
    claims, token = mint_transfer(svc)
    assert svc.verify_transfer(token, map_id="planet-1", character_id=7) == claims
    d = denial(svc.verify_transfer, token, map_id="planet-1", character_id=7)
    assert d.reason is DenialReason.REPLAYED


def test_expiry_with_injected_clock(svc, clock):
    _, token = mint_join(svc)
    clock.advance(9_999)
    _, token2 = mint_join(svc)
    assert svc.verify_join(token, map_id="planet-0")  # 1 ms left
    _, token3 = mint_join(svc)
    clock.advance(10_000)
    assert denial(svc.verify_join, token3, map_id="planet-0").reason is DenialReason.EXPIRED
    clock.advance(1)
    assert denial(svc.verify_join, token2, map_id="planet-0").reason is DenialReason.EXPIRED


def test_wrong_target_and_wrong_character_do_not_consume(svc):
    _, token = mint_transfer(svc)
    d = denial(svc.verify_transfer, token, map_id="planet-2", character_id=7)
    assert d.reason is DenialReason.WRONG_TARGET
    d = denial(svc.verify_transfer, token, map_id="planet-1", character_id=8)
    assert d.reason is DenialReason.WRONG_CHARACTER
    svc.verify_transfer(token, map_id="planet-1", character_id=7)  # still usable


def test_tampered_claims_and_signature(svc):
    _, token = mint_join(svc)
    kind, payload, mac = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["targetMapId"] = "planet-9"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    d = denial(svc.verify_join, f"{kind}.{forged}.{mac}", map_id="planet-9")
    assert d.reason is DenialReason.BAD_SIGNATURE
    flipped = mac[:-2] + ("A" if mac[-2] != "A" else "B") + mac[-1]
    d = denial(svc.verify_join, f"{kind}.{payload}.{flipped}", map_id="planet-0")
    assert d.reason is DenialReason.BAD_SIGNATURE
    other = TokenService(b"another host", clock_ms=svc.clock_ms)
    _, foreign = mint_join(other)
    assert denial(svc.verify_join, foreign, map_id="planet-0").reason is \
        DenialReason.BAD_SIGNATURE


@pytest.mark.parametrize("token", ["", "abc", "jt.x", "jt.a.b.c", "zz.e30.AAAA",
                                   "jt.!!!.AAAA", "x" * 5000])
def test_malformed(svc, token):
    assert denial(svc.verify_join, token, map_id="planet-0").reason is DenialReason.MALFORMED


def test_signed_but_invalid_claims_are_malformed(svc):
    head = "jt." + base64.urlsafe_b64encode(b'{"joinId": 1}').rstrip(b"=").decode()
    import hashlib
    import hmac

    mac = hmac.new(SECRET, head.encode(), hashlib.sha256).digest()
    token = head + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert denial(svc.verify_join, token, map_id="planet-0").reason is DenialReason.MALFORMED


def test_wrong_kind(svc):
    _, tt = mint_transfer(svc, to_map_id="planet-0")
    assert denial(svc.verify_join, tt, map_id="planet-0").reason is DenialReason.WRONG_KIND
    _, jt = mint_join(svc, target_map_id="planet-1")
    assert denial(svc.verify_transfer, jt, map_id="planet-1").reason is DenialReason.WRONG_KIND


def test_denial_is_structured_with_rebootstrap(svc):
    _, token = mint_join(svc)
    svc.verify_join(token, map_id="planet-0")
    body = denial(svc.verify_join, token, map_id="planet-0").to_json()
    assert body == {"error": "denied", "reason": "REPLAYED", "detail": "token already used",
                    "rebootstrap": REBOOTSTRAP_PATH}


def test_nonce_store_forgets_after_expiry(svc, clock):
    tokens = [mint_join(svc)[1] for _ in range(50)]
    for t in tokens:
        svc.verify_join(t, map_id="planet-0")
    assert len(svc.nonces) == 50
    clock.advance(11_000)
    _, fresh = mint_join(svc)
    svc.verify_join(fresh, map_id="planet-0")
    assert len(svc.nonces) == 1
    # the forgotten ones are still refused: they expired
    assert denial(svc.verify_join, tokens[0], map_id="planet-0").reason is DenialReason.EXPIRED


def test_roundtrip_encode_decode():
    t = JoinTicket(join_id="j", auth_key_hash=KEY_HASH, character_id=None,
                   target_map_id="planet-3", issued_at_ms=1, expires_at_ms=2,
                   nonce="n" * 24)
    assert decode(encode(t, SECRET), SECRET) == t


def test_auth_key_hash_and_disposable(caplog):
    salt = b"salt"
    h = auth_key_hash(salt, "my secret key")
    assert len(h) == 64 and h == auth_key_hash(salt, "my secret key")
    assert h != auth_key_hash(b"other", "my secret key")
    assert "my secret key" not in h
    d1, d2 = disposable_identity(), disposable_identity()
    assert d1.startswith(DISPOSABLE_PREFIX) and d1 != d2
    assert not any("my secret key" in r.getMessage() for r in caplog.records)
    logging.getLogger("x").info("noop")
