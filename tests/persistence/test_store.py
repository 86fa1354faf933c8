"""WorldStore: planet rows, characters, atomic flush batches, key hashing."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from server.persistence import FlushBatch, StoreError, WorldStore
from server.persistence.models import ChunkDelta
from server.world import World, WorldConfig


def test_open_planet_is_idempotent_and_updates_config(db_url):
    store = WorldStore(db_url())
    a = store.open_planet(42, 0, "{}")
    b = store.open_planet(42, 0, '{"x": 1}')
    c = store.open_planet(42, 1, "{}")
    assert a.id == b.id != c.id
    assert a.key_salt == b.key_salt != c.key_salt and len(a.key_salt) == 16
    assert b.config_json == '{"x": 1}'
    store.close()


def test_character_key_hash_is_unique(db_url):
    store = WorldStore(db_url())
    pid = store.open_planet(42, 0, "{}").id
    store.create_character(pid, "ab" * 32, (1.0, 2.0, 3.0), (0.0, 0.0, 0.0, 1.0))
    with pytest.raises(IntegrityError):
        store.create_character(pid, "ab" * 32, (1.0, 2.0, 3.0), (0.0, 0.0, 0.0, 1.0))
    assert store.find_character(pid, "cd" * 32) is None
    found = store.find_character(pid, "ab" * 32)
    assert found is not None and found.position == (1.0, 2.0, 3.0)
    store.close()


def test_flush_batch_is_atomic(db_url):
    """A batch that would move a chunk version backwards writes nothing at all."""
    store = WorldStore(db_url())
    pid = store.open_planet(42, 0, "{}").id
    store.save_batch(pid, FlushBatch(chunks=[((1, 2, 3), 5, b"five")]))
    bad = FlushBatch(chunks=[((0, 0, 0), 1, b"new"), ((1, 2, 3), 4, b"four")])
    with pytest.raises(StoreError):
        store.save_batch(pid, bad)
    assert store.load_chunk_versions(pid) == {(1, 2, 3): 5}
    assert store.load_chunk_delta(pid, (1, 2, 3)) == (5, b"five")
    with Session(store.engine) as s:
        assert len(s.exec(select(ChunkDelta)).all()) == 1
    store.close()


def test_auth_key_is_stored_only_as_a_salted_hash(tmp_path):
    key = "correct-horse-battery-staple-1234"
    w = World(WorldConfig(42), WorldStore.from_data_dir(tmp_path))
    p = w.join(key, 0.0)
    w.leave(p.player_id)
    w.close()
    for f in tmp_path.iterdir():
        assert key.encode() not in f.read_bytes()
    w2 = World(WorldConfig(42), WorldStore.from_data_dir(tmp_path))
    assert w2.join(key, 0.0).character_id == p.character_id
    assert w2.join("another key", 0.0).character_id != p.character_id
    w2.close()
