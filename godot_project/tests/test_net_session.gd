extends PSTestCase
## The session glue (res://net/net_session.gd) without a server: the client's frames go to a
## Callable, the server's frames are fed in. Chunk states and deltas made by the Python
## server (res://tests/golden/net_deltas.json, written by tests/client/test_net_gdscript.py)
## must leave the terrain's chunk holding the server's voxels; stale versions are ignored;
## a corrupt payload is dropped and the chunk subscribed again.

const P := preload("res://net/protocol.gd")
const FIXTURE := "res://tests/golden/net_deltas.json"

var _doc: Dictionary = {}
var _coord := Vector3i.ZERO
var _sent: Array[Dictionary] = []
var _streamer: PSTerrainStreamer
var _focus: Node3D
var _session: PSNetSession


## Stands in for the spectator: HUD fields and the HUD's messages.
class FakeHudOwner:
	extends Node
	var connection := ""
	var tick := -1
	var soil := ""
	var hud := FakeHud.new()


class FakeHud:
	extends RefCounted
	var messages: PackedStringArray = []

	func show_message(text: String) -> void:
		messages.append(text)


func before_all() -> void:
	var parsed: Variant = JSON.parse_string(FileAccess.get_file_as_string(FIXTURE))
	if parsed is Dictionary:
		_doc = parsed
		var c: Array = _doc["coord"]
		_coord = Vector3i(int(c[0]), int(c[1]), int(c[2]))


func before_each() -> void:
	_sent.clear()
	_focus = Node3D.new()
	add_child(_focus)
	_streamer = PSTerrainStreamer.new()
	_streamer.view_radius = 1
	_streamer.collision_radius = 0
	add_child(_streamer)
	_session = PSNetSession.new()
	add_child(_session)
	_session.setup(_streamer, _focus)
	_session.client.transport = func(frame: PackedByteArray) -> void:
		var m: Variant = PSCodec.decode(frame)
		if m != null:
			_sent.append(m)


func after_each() -> void:
	_session.client.auto_reconnect = false
	_session.queue_free()
	_streamer.queue_free()
	_focus.queue_free()
	await get_tree().process_frame


func _join(version: int = 1) -> void:
	var c := Vector3(_coord) * 16.0 + Vector3(8.0, 8.0, 8.0)
	_session.start("ws://test.invalid:1")
	var welcome := {
		"opcode": P.Opcode.WELCOME,
		"version": version,
		"min_version": 1,
		"tick_rate_hz": 20,
		"max_frame_bytes": 65536,
		"server_name": "test",
	}
	var accepted := {
		"opcode": P.Opcode.JOIN_ACCEPTED,
		"player_id": 1,
		"character_id": 0,
		"world_seed": int(_doc["world_seed"]),
		"planet_index": int(_doc["planet_index"]),
		"server_tick": 10,
		"position": PackedFloat64Array([c.x, c.y, c.z]),
		"rotation": Quaternion.IDENTITY,
		"view_radius_chunks": 1,
		"canisters": [0, 0],
	}
	_session.client.receive_frame(PSCodec.encode(welcome))
	_session.client.receive_frame(PSCodec.encode(accepted))


func _payload(name: String) -> Dictionary:
	for e: Dictionary in _doc.get("deltas", []):
		if e["name"] == name:
			return e
	return {}


func _state(version: int, payload_name: String) -> PackedByteArray:
	var e := _payload(payload_name)
	var chunk := {
		"coord": _coord,
		"version": version,
		"payload": (e["payload"] as String).hex_decode(),
		"uncompressed_size": 65537,
	}
	return PSCodec.encode({"opcode": P.Opcode.CHUNK_STATE, "chunk": chunk})


func _voxel_sha() -> String:
	var ch := _streamer.store.get_chunk(_coord)
	if ch == null:
		return ""
	var ctx := HashingContext.new()
	ctx.start(HashingContext.HASH_SHA256)
	ctx.update(ch.density)
	ctx.update(ch.material)
	return ctx.finish().hex_encode()


func test_join_moves_the_focus_and_subscribes_nearest_first() -> void:
	if not assert_false(_doc.is_empty(), "%s missing" % FIXTURE):
		return
	_join()
	assert_true(_session.client.is_joined())
	await get_tree().process_frame
	await get_tree().process_frame
	var subs: Array = []
	for m in _sent:
		if int(m["opcode"]) == P.Opcode.CHUNK_SUBSCRIBE:
			subs.append_array(m["coords"])
	var focus_chunk := _streamer.origin.scene_to_chunk(_focus.global_position)
	assert_true(subs.size() >= 7, "radius-1 ball subscribed: %s" % [subs])
	assert_eq(subs[0] if not subs.is_empty() else null, focus_chunk, "nearest first")


func test_server_states_and_deltas_give_the_servers_voxels() -> void:
	if not assert_false(_doc.is_empty(), "%s missing" % FIXTURE):
		return
	_join()
	var edited: String = _payload("server_choice")["sha256"]
	assert_true(_session.client.receive_frame(_state(3, "server_choice")))
	assert_eq(_voxel_sha(), edited, "CHUNK_STATE v3 applied")
	assert_eq(_session.chunk_version(_coord), 3)
	_session.client.receive_frame(_state(3, "no_change"))
	assert_eq(_voxel_sha(), edited, "same version ignored")
	var entry := {
		"coord": _coord,
		"version": 4,
		"payload": (_payload("no_change")["payload"] as String).hex_decode(),
		"uncompressed_size": 3,
	}
	var delta := {"opcode": P.Opcode.TERRAIN_DELTA, "tick": 11, "chunks": [entry]}
	assert_true(_session.client.receive_frame(PSCodec.encode(delta)))
	assert_eq(_voxel_sha(), _doc["generated_sha256"], "v4: back to the generated voxels")


func test_a_corrupt_payload_is_dropped_and_the_chunk_subscribed_again() -> void:
	if not assert_false(_doc.is_empty(), "%s missing" % FIXTURE):
		return
	_join()
	_session.client.receive_frame(_state(3, "server_choice"))
	var before := _voxel_sha()
	_sent.clear()
	_session.client.receive_frame(_state(5, "sparse_index_out_of_range"))
	assert_eq(_session.bad_payloads, 1)
	assert_eq(_voxel_sha(), before, "voxels unchanged")
	var ops: Array = []
	for m in _sent:
		ops.append(int(m["opcode"]))
	assert_eq(ops, [P.Opcode.CHUNK_UNSUBSCRIBE, P.Opcode.CHUNK_SUBSCRIBE])
	assert_true(_session.client.is_joined(), "a bad payload does not end the session")


func _incremental_delta(version: int, base: int) -> PackedByteArray:
	var inc: Dictionary = _doc["incremental"]
	var entry := {
		"coord": _coord,
		"version": version,
		"payload": (inc["payload"] as String).hex_decode(),
		"uncompressed_size": int(inc["uncompressed_size"]),
		"base_version": base,
	}
	return PSCodec.encode({"opcode": P.Opcode.TERRAIN_DELTA, "tick": 12, "chunks": [entry]})


func _base_state(version: int) -> PackedByteArray:
	var inc: Dictionary = _doc["incremental"]
	var chunk := {
		"coord": _coord,
		"version": version,
		"payload": (inc["base_payload"] as String).hex_decode(),
		"uncompressed_size": 0,
	}
	return PSCodec.encode({"opcode": P.Opcode.CHUNK_STATE, "chunk": chunk})


func test_incremental_delta_on_the_held_base_version_gives_the_servers_voxels() -> void:
	if not assert_true(_doc.has("incremental"), "%s without incremental" % FIXTURE):
		return
	_join()
	assert_true(_session.client.receive_frame(_base_state(2)))
	assert_eq(_voxel_sha(), _doc["incremental"]["base_sha256"], "base state v2")
	_sent.clear()
	assert_true(_session.client.receive_frame(_incremental_delta(5, 2)))
	assert_eq(_voxel_sha(), _doc["incremental"]["sha256"], "v5 from the v2 base")
	assert_eq(_session.chunk_version(_coord), 5)
	assert_eq(_session.base_mismatches, 0)
	assert_eq(_sent.size(), 0, "nothing re-requested")


func test_incremental_delta_on_another_version_resubscribes() -> void:
	if not assert_true(_doc.has("incremental"), "%s without incremental" % FIXTURE):
		return
	_join()
	_session.client.receive_frame(_base_state(3))
	var before := _voxel_sha()
	_sent.clear()
	assert_true(_session.client.receive_frame(_incremental_delta(5, 2)))  # holds v3, not v2
	assert_eq(_session.base_mismatches, 1)
	assert_eq(_voxel_sha(), before, "voxels unchanged")
	assert_eq(_session.chunk_version(_coord), -1, "the copy is dropped")
	var ops: Array = []
	for m in _sent:
		ops.append(int(m["opcode"]))
	assert_eq(ops, [P.Opcode.CHUNK_UNSUBSCRIBE, P.Opcode.CHUNK_SUBSCRIBE])
	# the full state that answers the resubscription is applied
	assert_true(_session.client.receive_frame(_state(5, "server_choice")))
	assert_eq(_voxel_sha(), _doc["incremental"]["sha256"], "full state v5")
	assert_eq(_session.chunk_version(_coord), 5)
	assert_true(_session.client.is_joined())


func test_disconnect_undoes_predictions_and_forgets_versions() -> void:
	if not assert_false(_doc.is_empty(), "%s missing" % FIXTURE):
		return
	_join()
	_session.client.receive_frame(_state(3, "server_choice"))
	var shown := _voxel_sha()
	var c := Vector3(_coord) * 16.0 + Vector3(8.0, 8.0, 8.0)
	var seq := _session.request_edit(P.EditMode.ELEVATE, PackedFloat64Array([c.x, c.y, c.z]), 3.0)
	assert_true(seq > 0)
	assert_ne(_voxel_sha(), shown, "predicted")
	var bye := PSCodec.encode(PSCodec.goodbye(P.ErrorCode.GOING_AWAY, "restart"))
	_session.client.receive_frame(bye)
	assert_eq(_voxel_sha(), shown, "prediction undone")
	assert_eq(_session.chunk_version(_coord), -1, "versions forgotten")


func _ops() -> Array:
	return _sent.map(func(m: Dictionary) -> int: return int(m["opcode"]))


func test_transfer_to_another_planet_resets_the_terrain() -> void:
	if not assert_false(_doc.is_empty(), "%s missing" % FIXTURE):
		return
	var owner := FakeHudOwner.new()
	add_child(owner)
	_session.hud_owner = owner
	var changed: Array = []
	_session.planet_changed.connect(func(s: int, p: int) -> void: changed.append([s, p]))
	_join(3)
	_session.client.receive_frame(_state(3, "server_choice"))
	assert_ne(_voxel_sha(), "", "a chunk of planet 0 is held")
	assert_eq(_session.next_map_id(), "planet-1")
	_sent.clear()
	assert_true(_session.request_next_planet() == "planet-1", "TRANSFER_REQUEST sent")
	assert_eq(_sent[-1].get("to_map_id"), "planet-1")
	var to := {
		"opcode": P.Opcode.TRANSFER_TO,
		"to_map_id": "planet-1",
		"endpoint": "ws://127.0.0.1:7781",
		"token": "v1.tt.token",
		"expires_in_ms": 30000,
	}
	_sent.clear()
	assert_true(_session.client.receive_frame(PSCodec.encode(to)))
	assert_true(_session.status.begins_with("transferring to planet-1"), _session.status)
	for i in 3:
		await get_tree().process_frame
	assert_eq(_ops(), [P.Opcode.GOODBYE, P.Opcode.HELLO, P.Opcode.JOIN_WITH_TICKET])
	assert_eq(_sent[-1].get("ticket"), "v1.tt.token")
	var seed_value := int(_doc["world_seed"])
	var radius := float(PSGenPlanet.field_params(seed_value, 1).radius)
	var welcome := {
		"opcode": P.Opcode.WELCOME,
		"version": 3,
		"min_version": 1,
		"tick_rate_hz": 20,
		"max_frame_bytes": 65536,
		"server_name": "planet-1",
	}
	var accepted := {
		"opcode": P.Opcode.JOIN_ACCEPTED,
		"player_id": 9,
		"character_id": 0,
		"world_seed": seed_value,
		"planet_index": 1,
		"server_tick": 10,
		"position": PackedFloat64Array([0.0, radius + 20.0, 0.0]),
		"rotation": Quaternion.IDENTITY,
		"view_radius_chunks": 1,
		"canisters": [0, 0],
	}
	_session.client.receive_frame(PSCodec.encode(welcome))
	assert_true(_session.client.receive_frame(PSCodec.encode(accepted)))
	assert_eq(changed, [[seed_value, 1]], "planet_changed")
	assert_eq(_session.planet_index, 1)
	var src := _streamer.source as PSGenChunkSource
	assert_eq(src.planet_index if src != null else -1, 1, "the terrain shows planet 1")
	assert_eq(_voxel_sha(), "", "planet 0's chunks are gone")
	assert_true(_session.predictor.store == _streamer.store, "the predictor uses the new store")
	assert_eq(_session.chunk_version(_coord), -1, "versions forgotten")
	var up := _streamer.origin.scene_to_world(_focus.global_position)
	assert_almost_eq(up[1], radius + 20.0 + PSNetSession.SPAWN_EYE_HEIGHT_M, 0.01, "at the spawn")
	assert_true(_session.status.contains("planet-1"), _session.status)
	owner.queue_free()


func test_transfer_refused_shows_on_the_hud() -> void:
	var owner := FakeHudOwner.new()
	add_child(owner)
	_session.hud_owner = owner
	var refused: Array = []
	_session.transfer_refused.connect(func(r: String) -> void: refused.append(r))
	_join(3)
	assert_eq(_session.request_transfer("planet-2"), true)
	var err := {
		"opcode": P.Opcode.ERROR,
		"code": P.ErrorCode.TRANSFER_REFUSED,
		"context": 0,
		"reason": "NO_ORCHESTRATOR: this server runs without an orchestrator",
	}
	assert_true(_session.client.receive_frame(PSCodec.encode(err)))
	assert_eq(refused, ["NO_ORCHESTRATOR: this server runs without an orchestrator"])
	var msgs: PackedStringArray = owner.hud.messages
	assert_true(
		msgs.size() > 0 and msgs[-1].begins_with("Transfer refused: NO_ORCHESTRATOR"), str(msgs)
	)
	assert_true(_session.client.is_joined())
	owner.queue_free()


func test_giving_up_shows_the_reason_on_the_hud() -> void:
	var owner := FakeHudOwner.new()
	add_child(owner)
	_session.hud_owner = owner
	_session.client.http_transport = func(_u: String, _b: String) -> void: pass
	_session.start("http://orch.invalid:7777")
	assert_true(_session.status.begins_with("bootstrapping via http://orch.invalid:7777"))
	_session.client.receive_bootstrap(422, JSON.stringify({"reason": "bad body"}))
	var msgs: PackedStringArray = owner.hud.messages
	assert_true(msgs.size() > 0 and msgs[-1].contains("bad body"), str(msgs))
	assert_true(_session.status.contains("bad body"), _session.status)
	owner.queue_free()
