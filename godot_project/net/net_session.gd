class_name PSNetSession
extends Node
## A joined game session: wires the network owner ([PSNetClient], a child of this node) to
## the terrain ([PSTerrainStreamer]), the edit predictor ([PSEditPredictor]), the other
## players' avatars ([PSAvatars]) and the HUD.
##
## * Join: on JOIN_ACCEPTED the focus node (camera or player) moves to the spawn point and
##   the chunks within the view radius are subscribed (nearest first); farther than the
##   radius + [constant UNSUBSCRIBE_MARGIN] they are unsubscribed again.
## * Chunks: a CHUNK_STATE / TERRAIN_DELTA payload is applied to the chunk's *generated*
##   voxels ([PSDeltaCodec]); the result goes through the predictor, which re-applies the
##   player's unconfirmed edits on top, into the terrain (only the changed voxels are
##   written, so only the touched meshes are rebuilt). A payload that does not apply is
##   dropped and the chunk re-subscribed. An incremental TERRAIN_DELTA entry (protocol v2,
##   encoding 2: only the voxels changed since [code]base_version[/code]) is written over
##   the chunk's authoritative voxels if this client holds exactly that version; otherwise
##   the chunk is dropped and re-subscribed for a full CHUNK_STATE.
## * Edits: [method request_edit] sends EDIT_REQUEST and shows the edit at once; a rejected
##   edit is undone and [signal edit_feedback] carries the reason.
## * Player: the focus node's pose is sent as PLAYER_TRANSFORM (at most 20 Hz), or the pose
##   set from [member pose_provider] (VR: head and hands).
## * Orchestrator: with an http(s):// URL the client bootstraps first and joins the map
##   process with its ticket ([PSNetClient]); the HUD shows the bootstrap's progress and,
##   when the client gives up (a ticket denied twice, a refused bootstrap), the reason.
## * Transfers: [method request_transfer] / [method request_next_planet] ask the server to
##   move the player to another map ("planet-<index>"); a refusal (ERROR 4103) is shown on
##   the HUD ([signal transfer_refused]). On TRANSFER_TO the client joins the new map;
##   if its JOIN_ACCEPTED names another world seed or planet, the terrain is reset for the
##   new planet ([signal planet_changed]) and the focus moves to the new spawn point.
## After a disconnect every prediction is undone, the avatars are removed and the session
## joins again (the client reconnects with backoff) and re-subscribes.

## The server answered edit [param seq]; [param text] is the HUD text of the reason.
signal edit_feedback(seq: int, accepted: bool, reason: int, text: String)
## Chunk [param coord] now shows the server's voxels of [param version].
signal chunk_synced(coord: Vector3i, version: int)
## The HUD connection text changed.
signal status_changed(text: String)
## The server refused a transfer request (ERROR 4103); [param reason] is shown on the HUD.
signal transfer_refused(reason: String)
## The terrain now shows another planet (a transfer, or the server's planet differs from
## the one shown at start).
signal planet_changed(world_seed: int, planet_index: int)

const P := preload("res://net/protocol.gd")
const UNSUBSCRIBE_MARGIN := 2
const SUBSCRIBE_INTERVAL_S := 0.25
const BASE_CACHE_SIZE := 64
## An unchanged pose is sent again after this long.
const TRANSFORM_REFRESH_S := 1.0
## Eye height of a desktop spectator placed at the spawn point.
const SPAWN_EYE_HEIGHT_M := 1.5

## 0: the server's view radius (JOIN_ACCEPTED), capped by the terrain's.
@export_range(0, 16) var view_radius_chunks := 0
## Move the focus node to the spawn point on the first join.
@export var place_focus_at_spawn := true

var client: PSNetClient
var predictor: PSEditPredictor
var avatars: PSAvatars
var terrain: PSTerrainStreamer
var focus: Node3D
## Optional: a node with [code]connection[/code], [code]tick[/code], [code]soil[/code]
## properties and [code]add_follow_target(node)[/code] (the desktop spectator).
var hud_owner: Node
## Returns the pose set to send ([method PSCodec.pose_set]); default: the focus node's pose.
var pose_provider: Callable
var world_seed := -1
var planet_index := -1
var soil_total := 0
var status := "offline"
## Timing of the newest own edit, milliseconds (-1 before): request -> EDIT_RESULT, and
## request -> the authoritative delta of its last chunk.
var last_result_ms := -1.0
var last_delta_ms := -1.0
## Payloads rejected by the delta codec.
var bad_payloads := 0
## Chunks re-subscribed because an incremental entry's base version was not the one held.
var base_mismatches := 0

var _params: PSGenPlanet.FieldParams
var _subscribed: Dictionary = {}
var _server_modified: Dictionary = {}
var _base_cache: Dictionary = {}
var _focus_chunk := Vector3i(0x7FFFFFFF, 0, 0)
var _next_sub_s := 0.0
var _placed := false
## seq -> [sent time s, {coord: version}] for timing.
var _edit_timing: Dictionary = {}
var _last_poses: Dictionary = {}
var _last_poses_s := -1e9
## Between TRANSFER_TO and the new map's JOIN_ACCEPTED.
var _transferring := false
## TRANSFER_TO arrived and its hand-off disconnect is still to come.
var _handoff := false


## Use [param streamer] for voxels and [param focus_node] as the player; avatars go under
## [param avatar_parent] (default: the streamer's parent).
func setup(streamer: PSTerrainStreamer, focus_node: Node3D, avatar_parent: Node = null) -> void:
	terrain = streamer
	focus = focus_node
	if client == null:
		client = PSNetClient.new()
		client.name = "NetClient"
		add_child(client)
		client.joined.connect(_on_joined)
		client.chunk_state_received.connect(_on_chunk_state)
		client.terrain_delta_received.connect(_on_terrain_delta)
		client.edit_resolved.connect(_on_edit_resolved)
		client.player_states_received.connect(_on_player_states)
		client.player_left.connect(_on_player_left)
		client.disconnected.connect(_on_disconnected)
		client.error_received.connect(_on_error)
		client.connection_started.connect(
			func(u: String, n: int) -> void:
				_set_status("connecting to %s (attempt %d)" % [u, n + 1])
		)
		client.bootstrap_started.connect(
			func(u: String, n: int) -> void:
				_set_status("bootstrapping via %s (attempt %d)" % [u, n + 1])
		)
		client.bootstrap_failed.connect(
			func(code: int, reason: String) -> void:
				var text := "Bootstrap failed (HTTP %d): %s" % [code, reason]
				if code == 0:
					text = "Bootstrap failed: %s" % reason
				_show_message(text)
		)
		client.transfer_started.connect(_on_transfer_started)
		client.transfer_refused.connect(_on_transfer_refused)
		client.gave_up.connect(_on_gave_up)
	predictor = PSEditPredictor.new(terrain.store, terrain.apply_delta, _apply_state)
	predictor.edit_rejected.connect(
		func(seq: int, reason: int, text: String) -> void:
			edit_feedback.emit(seq, false, reason, text)
			_show_message("Edit refused: %s" % text)
	)
	predictor.edit_accepted.connect(
		func(seq: int, _d: int, _t: int) -> void: edit_feedback.emit(seq, true, 0, "accepted")
	)
	if avatars == null:
		avatars = PSAvatars.new()
		avatars.name = "Avatars"
		var parent: Node = avatar_parent if avatar_parent != null else terrain.get_parent()
		parent.add_child.call_deferred(avatars)
		avatars.avatar_added.connect(_on_avatar_added)
	avatars.origin = terrain.origin


## Connect to [param url] (ws://HOST:PORT) and join with [param auth_key] ("" = disposable).
func start(url: String, auth_key: String = "", display_name: String = "") -> void:
	client.auth_key = auth_key
	client.display_name = display_name
	client.connect_to_server(url)


## Leave the server.
func stop() -> void:
	client.close()


## Ask the server to move the player to map [param to_map_id] ("planet-1"). False when it
## could not be asked (not joined, protocol < 3, not a map id); the answer is a transfer
## (TRANSFER_TO) or [signal transfer_refused].
func request_transfer(to_map_id: String) -> bool:
	if not client.request_transfer(to_map_id):
		_show_message("Cannot ask for a transfer to %s now" % to_map_id)
		return false
	_set_status("asked for a transfer to %s" % to_map_id)
	return true


## The map id of the next planet: "planet-<planet_index + 1>".
func next_map_id() -> String:
	return map_id_of(maxi(planet_index, 0) + 1)


## Map ids are "planet-<index>".
static func map_id_of(index: int) -> String:
	return "planet-%d" % index


## [method request_transfer] to [method next_map_id]; returns that id, or "" if not asked.
func request_next_planet() -> String:
	var to := next_map_id()
	return to if request_transfer(to) else ""


## Send an edit of [param mode] ([enum PSProtocol.EditMode]) around world point
## [param centre] (metres, float64 [x, y, z]) and show it at once. Returns its seq, or -1
## when not joined.
func request_edit(mode: int, centre: PackedFloat64Array, radius: float) -> int:
	if not client.is_joined():
		return -1
	var seq := client.request_edit(mode, centre, radius)
	if seq < 0:
		return -1
	_edit_timing[seq] = [_now(), {}]
	predictor.predict(seq, mode, centre, radius)
	return seq


## Let [param tool] (a [PSTerrainTool]) edit through this session ([method request_edit]):
## its requests go to the server, EDIT_RESULTs come back to [code]tool.resolve()[/code],
## the canisters from JOIN_ACCEPTED to [code]tool.set_canisters()[/code].
func attach_tool(tool: Node) -> void:
	tool.set(&"net", self)
	tool.set(&"origin", terrain.origin)
	client.edit_resolved.connect(
		func(seq: int, ok: bool, reason: int, soil_delta: int, total: int, _cv: Array) -> void:
			if is_instance_valid(tool):
				tool.call(&"resolve", seq, ok, reason, soil_delta, total)
	)
	client.joined.connect(
		func(_pid: int, _spawn: PackedFloat64Array, _tick: int) -> void:
			if is_instance_valid(tool) and tool.has_method(&"set_canisters"):
				var cans: PackedInt64Array = client.join_info["canisters"]
				tool.call(&"set_canisters", PackedInt32Array(Array(cans)))
	)


## [method request_edit] at scene point [param scene_point] (what a tool aims at).
func request_edit_at(mode: int, scene_point: Vector3, radius: float) -> int:
	return request_edit(mode, terrain.origin.scene_to_world(scene_point), radius)


## The chunks currently subscribed.
func subscribed_chunks() -> Array:
	return _subscribed.keys()


## Server version of chunk [param coord] (-1: none received).
func chunk_version(coord: Vector3i) -> int:
	return int(predictor.versions.get(coord, -1))


func _process(_delta: float) -> void:
	if client == null or not client.is_joined():
		return
	var now := _now()
	if now >= _next_sub_s:
		_next_sub_s = now + SUBSCRIBE_INTERVAL_S
		_update_subscriptions()
		predictor.expire(now)
	var poses := _current_poses()
	if poses != _last_poses or now - _last_poses_s >= TRANSFORM_REFRESH_S:
		_last_poses = poses
		_last_poses_s = now
		client.set_transform(poses)
	_update_hud()


func _current_poses() -> Dictionary:
	if pose_provider.is_valid():
		return pose_provider.call()
	var w := terrain.origin.scene_to_world(focus.global_position)
	var body := PSCodec.pose(
		Vector3(w[0], w[1], w[2]), focus.global_basis.get_rotation_quaternion()
	)
	return PSCodec.pose_set(body)


# ---- session events ---------------------------------------------------------------------


func _on_joined(player_id: int, spawn: PackedFloat64Array, tick: int) -> void:
	var info := client.join_info
	var where := " on %s" % client.map_id if not client.map_id.is_empty() else ""
	_set_status("joined as player %d%s (tick %d)" % [player_id, where, tick])
	if _use_planet(int(info["world_seed"]), int(info["planet_index"])):
		_placed = false  # another planet: go to its spawn point
	_transferring = false
	if place_focus_at_spawn and not _placed and focus != null:
		_placed = true
		var up := Vector3(spawn[0], spawn[1], spawn[2]).normalized()
		var eye := Vector3(spawn[0], spawn[1], spawn[2]) + up * SPAWN_EYE_HEIGHT_M
		focus.global_position = terrain.origin.world_to_scene(eye)
		var tangent := up.cross(Vector3.RIGHT)
		if tangent.length_squared() < 1e-6:
			tangent = up.cross(Vector3.FORWARD)
		focus.look_at(focus.global_position + tangent.normalized() - up * 0.25, up)
	var cans: PackedInt64Array = info["canisters"]
	soil_total = 0
	for c in cans:
		soil_total += c
	_subscribed.clear()
	_last_poses = {}
	_focus_chunk = Vector3i(0x7FFFFFFF, 0, 0)
	_next_sub_s = 0.0  # subscribe in the next _process, after the focus moved to the spawn


func _on_disconnected(code: int, reason: String) -> void:
	predictor.reset()
	_subscribed.clear()
	_edit_timing.clear()
	avatars.clear()
	if _handoff:
		_handoff = false  # the TRANSFER_TO hand-off: the status says where it goes
	else:
		_set_status("disconnected (%d %s)" % [code, reason])


func _on_error(code: int, context: int, reason: String) -> void:
	push_warning(
		"server error %d (%s), context %d: %s" % [code, P.error_name(code), context, reason]
	)


func _on_transfer_started(to_map_id: String, endpoint: String) -> void:
	_transferring = true
	_handoff = true
	_set_status("transferring to %s (%s)" % [to_map_id, endpoint])


func _on_transfer_refused(reason: String) -> void:
	_set_status("transfer refused: %s" % reason)
	_show_message("Transfer refused: %s" % reason)
	transfer_refused.emit(reason)


func _on_gave_up(code: int, reason: String) -> void:
	_set_status("stopped (%d %s): %s" % [code, P.error_name(code), reason])
	_show_message("Cannot join: %s" % reason)


func _on_chunk_state(coord: Vector3i, version: int, payload: PackedByteArray, _size: int) -> void:
	_apply_server_chunk(coord, version, payload)


func _on_terrain_delta(_tick: int, chunks: Array) -> void:
	for c: Dictionary in chunks:
		var payload: PackedByteArray = c["payload"] if c["payload"] != null else PackedByteArray()
		if c.get("base_version") != null:
			_apply_incremental(c["coord"], c["version"], int(c["base_version"]), payload)
		else:
			_apply_server_chunk(c["coord"], c["version"], payload)


func _on_edit_resolved(
	seq: int, accepted: bool, reason: int, soil_delta: int, total: int, chunk_versions: Array
) -> void:
	var timing: Array = _edit_timing.get(seq, [])
	if not timing.is_empty():
		last_result_ms = (_now() - float(timing[0])) * 1000.0
		if accepted and not chunk_versions.is_empty():
			for e: Array in chunk_versions:
				(timing[1] as Dictionary)[e[0]] = e[1]
			_check_edit_timing()
		else:
			_edit_timing.erase(seq)
	if accepted:
		soil_total = total
	predictor.resolve(seq, accepted, reason, chunk_versions, soil_delta, total)


func _on_player_states(tick: int, players: Array) -> void:
	var others: Array = []
	for e: Array in players:
		if int(e[0]) != client.player_id:
			others.append(e)
	var rate := float(client.welcome_info.get("tick_rate_hz", 0))
	avatars.push_states(others, -1.0, tick, rate)


func _on_player_left(player_id: int, _reason: int) -> void:
	avatars.remove_player(player_id)


func _on_avatar_added(_player_id: int, node: PSAvatar) -> void:
	if hud_owner != null and hud_owner.has_method(&"add_follow_target"):
		hud_owner.call(&"add_follow_target", node)


# ---- chunks -----------------------------------------------------------------------------


## Apply the server's chunk (generated voxels + [param payload]; empty = generated).
func _apply_server_chunk(coord: Vector3i, version: int, payload: PackedByteArray) -> void:
	if predictor.versions.has(coord) and version <= int(predictor.versions[coord]):
		return
	if payload.is_empty() and not _server_modified.has(coord) and not predictor.is_predicted(coord):
		predictor.versions[coord] = version  # the generated voxels are current already
		chunk_synced.emit(coord, version)
		return
	var base := _base(coord)
	var voxels: Array = base
	if not payload.is_empty():
		var err := {}
		voxels = PSDeltaCodec.apply(base[0], base[1], payload, err)
		if voxels.is_empty():
			bad_payloads += 1
			push_warning(
				(
					"chunk %s v%d: bad delta payload (%s); re-subscribing"
					% [coord, version, err.get("reason", "")]
				)
			)
			client.unsubscribe([coord])
			client.subscribe([coord])
			return
		_server_modified[coord] = true
	else:
		_server_modified.erase(coord)
	predictor.apply_authoritative(coord, version, voxels[0], voxels[1])
	var chunk := terrain.store.get_chunk(coord)
	if chunk != null and not payload.is_empty():
		chunk.authoritative = true  # keep it: regenerating it would lose the delta
	chunk_synced.emit(coord, version)
	_check_edit_timing()


## Apply an INCREMENTAL_ZSTD entry (protocol v2): the sparse delta [param payload] of the
## voxels changed between [param base] and [param version], written over the authoritative
## voxels held at exactly [param base]. Any other version held (or none, or a bad payload):
## drop the chunk and re-subscribe to get a full CHUNK_STATE.
func _apply_incremental(
	coord: Vector3i, version: int, base: int, payload: PackedByteArray
) -> void:
	var held := int(predictor.versions.get(coord, -1))
	if held >= version:
		return  # already current (a full state crossed the delta)
	var current := _authoritative(coord) if held == base else []
	var voxels: Array = []
	var err := {}
	if not current.is_empty():
		var raw := PSDeltaCodec.decompress(payload, err)
		if not raw.is_empty() and raw[0] != PSDeltaCodec.FORMAT_SPARSE:
			err["reason"] = "incremental delta is not sparse"
		elif not raw.is_empty():
			voxels = PSDeltaCodec.apply_raw(current[0], current[1], raw, err)
	if voxels.is_empty():
		if current.is_empty():
			base_mismatches += 1
		else:
			bad_payloads += 1
			push_warning(
				"chunk %s v%d: bad incremental payload (%s)" % [coord, version, err.get("reason", "")]
			)
		_resubscribe(coord)
		return
	_server_modified[coord] = true
	predictor.apply_authoritative(coord, version, voxels[0], voxels[1])
	var chunk := terrain.store.get_chunk(coord)
	if chunk != null:
		chunk.authoritative = true
	chunk_synced.emit(coord, version)
	_check_edit_timing()


## The server's voxels [density, material] of the version held (without the player's
## unconfirmed edits), or [] when the chunk is not held.
func _authoritative(coord: Vector3i) -> Array:
	if predictor.is_predicted(coord):
		return predictor.authoritative_voxels(coord)
	var chunk := terrain.store.get_chunk(coord)
	if chunk == null:
		return []
	return [chunk.density, chunk.material]


## Forget what is held of [param coord] and ask the server for its full state again.
func _resubscribe(coord: Vector3i) -> void:
	predictor.versions.erase(coord)
	client.unsubscribe([coord])
	client.subscribe([coord])


## Full server state of a chunk the store does not hold yet.
func _apply_state(coord: Vector3i, d: PackedByteArray, m: PackedByteArray) -> void:
	terrain.apply_chunk_state(coord, d, m)


## Generated voxels [density, material] of [param coord].
func _base(coord: Vector3i) -> Array:
	if _base_cache.has(coord):
		return _base_cache[coord]
	var out: Array = []
	if not _server_modified.has(coord):
		if predictor.is_predicted(coord):
			out = predictor.authoritative_voxels(coord)
		else:
			var chunk := terrain.store.get_chunk(coord)
			if chunk != null:
				out = [chunk.density, chunk.material]
	if out.is_empty():
		out = _generate(coord)
	if _base_cache.size() >= BASE_CACHE_SIZE:
		_base_cache.erase(_base_cache.keys()[0])
	_base_cache[coord] = [
		(out[0] as PackedByteArray).duplicate(), (out[1] as PackedByteArray).duplicate()
	]
	return _base_cache[coord]


func _generate(coord: Vector3i) -> Array:
	if _params != null:
		var g := _params.grid_radius
		if absi(coord.x) <= g and absi(coord.y) <= g and absi(coord.z) <= g:
			var c := PSGenPlanet.generate_chunk_with_params(
				world_seed, planet_index, _params, coord.x, coord.y, coord.z
			)
			if c != null:
				return [c.density, c.material]
	var air := PSChunkData.make_air(coord)
	return [air.density, air.material]


## Show planet [param planet] of world [param seed_value]; true if the terrain was reset
## for it (it showed another planet before).
func _use_planet(seed_value: int, planet: int) -> bool:
	if seed_value == world_seed and planet == planet_index:
		return false
	world_seed = seed_value
	planet_index = planet
	_params = PSGenPlanet.field_params(seed_value, planet)
	_base_cache.clear()
	var src := terrain.source as PSGenChunkSource
	if src != null and src.world_seed == seed_value and src.planet_index == planet:
		return false
	if src != null and not _transferring and client.bootstrap_url.is_empty():
		var text := (
			"the server's planet (seed %d, planet %d) differs from the one shown"
			% [seed_value, planet]
		)
		push_warning(text + "; start the client with the server's --world-seed and --planet")
	var fresh := PSGenChunkSource.create(seed_value, planet)
	if fresh == null:
		return false
	# another planet: nothing of the old one's voxels, versions or deltas is kept
	predictor.reset()
	_server_modified.clear()
	_subscribed.clear()
	terrain.configure(fresh, focus)
	predictor.store = terrain.store  # a reset replaces the store
	avatars.clear()
	if src == null:
		return false  # the first planet shown
	planet_changed.emit(seed_value, planet)
	return true


## The persistent character's key from [param path] (first line, trimmed), or "" (a
## disposable session) when [param path] is empty or unreadable.
static func read_auth_key(path: String) -> String:
	if path.is_empty():
		return ""
	var f := FileAccess.open(path, FileAccess.READ)
	if f == null:
		push_warning("cannot read the auth key file %s" % path)
		return ""
	return f.get_line().strip_edges()


func _update_subscriptions() -> void:
	if focus == null or _params == null:
		return
	var fc := terrain.origin.scene_to_chunk(focus.global_position - terrain.global_position)
	if fc == _focus_chunk:
		return
	_focus_chunk = fc
	var server_r: int = int(client.join_info.get("view_radius_chunks", 4))
	var r := view_radius_chunks if view_radius_chunks > 0 else mini(server_r, terrain.view_radius)
	var g := _params.grid_radius
	var want: Array = []
	for dx in range(-r, r + 1):
		for dy in range(-r, r + 1):
			for dz in range(-r, r + 1):
				if dx * dx + dy * dy + dz * dz > r * r:
					continue
				var c := fc + Vector3i(dx, dy, dz)
				if absi(c.x) > g or absi(c.y) > g or absi(c.z) > g or _subscribed.has(c):
					continue
				want.append(c)
	want.sort_custom(
		func(a: Vector3i, b: Vector3i) -> bool:
			return (a - fc).length_squared() < (b - fc).length_squared()
	)
	var drop: Array = []
	var keep := (r + UNSUBSCRIBE_MARGIN) * (r + UNSUBSCRIBE_MARGIN)
	for c: Vector3i in _subscribed:
		if (c - fc).length_squared() > keep:
			drop.append(c)
	if not drop.is_empty():
		client.unsubscribe(drop)
		for c: Vector3i in drop:
			_subscribed.erase(c)
			predictor.versions.erase(c)
	if not want.is_empty():
		client.subscribe(want)
		for c: Vector3i in want:
			_subscribed[c] = true


func _check_edit_timing() -> void:
	for seq: int in _edit_timing.keys():
		var t: Array = _edit_timing[seq]
		var need: Dictionary = t[1]
		if need.is_empty():
			continue
		var done := true
		for c: Vector3i in need:
			if chunk_version(c) < int(need[c]):
				done = false
				break
		if done:
			last_delta_ms = (_now() - float(t[0])) * 1000.0
			_edit_timing.erase(seq)


func _update_hud() -> void:
	if hud_owner == null:
		return
	hud_owner.set(&"connection", status)
	hud_owner.set(&"tick", client.server_tick)
	hud_owner.set(&"soil", "%d units (%.2f m3)" % [soil_total, soil_total * 0.0078125])


## Show [param text] on the HUD ([code]hud_owner.hud.show_message()[/code]) if there is one.
func _show_message(text: String) -> void:
	if hud_owner == null:
		return
	var hud: Variant = hud_owner.get(&"hud")
	if hud is Object and (hud as Object).has_method(&"show_message"):
		(hud as Object).call(&"show_message", text)


func _set_status(text: String) -> void:
	status = text
	status_changed.emit(text)
	_update_hud()


static func _now() -> float:
	return Time.get_ticks_usec() / 1.0e6
