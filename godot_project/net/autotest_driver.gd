class_name PSAutotestDriver
extends Node
## Scripted client for end-to-end tests: starts the desktop spectator with a
## [PSNetSession], runs a JSON list of actions and writes what it saw to a JSON report.
##
## [code]tools/godot --headless --xr-mode off --path godot_project res://net/autotest.tscn --
## --server ws://HOST:PORT --world-seed N --planet P --view-radius 2 --autotest ACTIONS.json[/code]
## ([code]--server http://HOST:PORT[/code]: through the orchestrator's bootstrap)
##
## ACTIONS.json: [code]{"output": "/abs/report.json", "actions": [{"do": ...}, ...]}[/code]
## with, in order:
## [codeblock]
## {"do": "connect"}              join; the spawn point is remembered
## {"do": "dig", "depth_m": 1.0, "offset_m": 0.0, "radius": 1.5, "mode": 0, "via_tool": false}
##     waits until the chunks the edit touches are received and meshed, then sends the edit
##     at the spawn point moved depth_m down and offset_m along the surface (towards +y);
##     via_tool: the desktop terrain tool (res://tool/terrain_tool.tscn) at the camera aims
##     its ray there and applies its own mode and radius
## {"do": "wait_edit", "expect": "accepted" | "rejected" | "any"}   its EDIT_RESULT
## {"do": "check_restored"}       after a rejection: the voxels are back, the HUD says why
## {"do": "wait_synced"}          the delta of every chunk it changed, and the meshes
## {"do": "report", "name": N}    voxel SHA-256 and meshes of the edit's chunks
## {"do": "wait_avatar", "position": [x, y, z]}   another player's avatar shown there
## {"do": "wait_foreign", "coord": [x, y, z]}     a newer version of that chunk (an edit by
##                                                someone else) and its new mesh
## {"do": "wait_rejoin"}          the session is lost and joined again (server restart)
## {"do": "transfer", "to": "planet-1", "expect": "joined" | "refused", "name": N,
##  "wait_terrain": true}
##     TRANSFER_REQUEST (to: default the next planet); "joined": waits for TRANSFER_TO and
##     the new map's JOIN_ACCEPTED (its spawn becomes the spawn of later actions), then
##     for the terrain around it; "refused": waits for ERROR 4103 and the HUD's text
## {"do": "wait_file", "path": "/abs/go"}   until that file exists (the test's go-ahead)
## {"do": "quit"}
## [/codeblock]
## Every action may give "timeout" (s, default 60). The report is written at start and after
## every action; "done" is true at the end, "error" says what failed (exit code 1).

const SPECTATOR_SCENE := "res://desktop/spectator.tscn"
const DEFAULT_TIMEOUT_S := 60.0

var session: PSNetSession
var spectator: Node
var terrain: PSTerrainStreamer
var report: Dictionary = {"phases": {}, "log": [], "done": false, "error": ""}

var _output := ""
var _spawn := PackedFloat64Array()
var _meshed_at: Dictionary = {}  # coord -> time of the last chunk_meshed
var _edit: Dictionary = {}
var _t0 := 0.0
var _tool: Node3D
var _reconnect_delays: Array = []


func _ready() -> void:
	_t0 = _now()
	var path := _arg("--autotest")
	var doc: Variant = JSON.parse_string(FileAccess.get_file_as_string(path))
	if not doc is Dictionary:
		push_error("autotest: cannot read %s" % path)
		get_tree().quit(2)
		return
	_output = str(doc.get("output", path + ".report.json"))
	report["started"] = true
	_write()
	# the real spectator: with --server among the arguments it starts its own PSNetSession
	# and attaches its desktop terrain tool to it; the driver uses both
	spectator = (load(SPECTATOR_SCENE) as PackedScene).instantiate()
	add_child(spectator)
	terrain = spectator.get("terrain")
	terrain.chunk_meshed.connect(_on_chunk_meshed)
	session = spectator.get("session")
	if session == null:
		report["error"] = "no --server given: the spectator started no session"
		_write()
		get_tree().quit(2)
		return
	# the driver aims the tool itself: the mouse input must not re-aim it
	var tool_input := spectator.get_node_or_null(^"ToolInput")
	if tool_input != null:
		tool_input.set_physics_process(false)
		tool_input.set_process_unhandled_input(false)
	session.status_changed.connect(func(t: String) -> void: _log("status: " + t))
	session.edit_feedback.connect(_on_edit_feedback)
	session.client.reconnect_scheduled.connect(
		func(delay: float, _n: int) -> void: _reconnect_delays.append(delay)
	)
	session.client.edit_resolved.connect(_on_edit_resolved)
	session.planet_changed.connect(func(_s: int, _p: int) -> void: _meshed_at.clear())
	_run.call_deferred(doc.get("actions", []))


func _on_chunk_meshed(c: Vector3i) -> void:
	_meshed_at[c] = _now()
	if _edit.has("sent_s") and not _edit.has("first_mesh_ms"):
		for e: Array in _edit["touched"]:
			if Vector3i(e[0], e[1], e[2]) == c:
				_edit["first_mesh_ms"] = (_now() - float(_edit["sent_s"])) * 1000.0


func _run(actions: Array) -> void:
	for a: Dictionary in actions:
		var what := str(a.get("do", ""))
		_log("action %s" % what)
		var err: String = await _act(what, a, float(a.get("timeout", DEFAULT_TIMEOUT_S)))
		if err != "":
			report["error"] = "%s: %s" % [what, err]
			_log("FAILED " + report["error"])
			_write()
			get_tree().quit(1)
			return
		_write()
	report["done"] = true
	_write()
	get_tree().quit(0)


func _act(what: String, a: Dictionary, timeout: float) -> String:
	var err := "unknown action"
	match what:
		"connect":
			err = await _connect(timeout)
		"dig":
			err = await _dig(a, timeout)
		"wait_edit":
			err = await _wait_edit(a, timeout)
		"check_restored":
			err = await _check_restored(a, timeout)
		"wait_avatar":
			err = await _wait_avatar(a, timeout)
		"wait_rejoin":
			err = await _wait_rejoin(a, timeout)
		"wait_synced":
			err = await _wait_synced(timeout)
		"report":
			report["phases"][str(a.get("name", "report"))] = _chunk_report(_edit_chunks())
			err = ""
		"wait_foreign":
			err = await _wait_foreign(a, timeout)
		"transfer":
			err = await _transfer(a, timeout)
		"wait_file":
			var path := str(a.get("path", ""))
			err = ""
			if not await _until(func() -> bool: return FileAccess.file_exists(path), timeout):
				err = "no file %s within %.0f s" % [path, timeout]
		"quit":
			err = ""
	return err


func _connect(timeout: float) -> String:
	var opts: Node = get_node_or_null(^"/root/PSOptions")
	var url: String = opts.get("server_url") if opts != null else ""
	if url.is_empty():
		return "no --server given"
	session.start(url, "", "autotest")
	if not await _until(func() -> bool: return session.client.is_joined(), timeout):
		return "not joined within %.0f s (%s)" % [timeout, session.status]
	_spawn = session.client.join_info["position"]
	report["joined"] = _join_report()
	report["joined"]["seconds"] = _now() - _t0
	report["joined"]["bootstrap"] = session.client.bootstrap_info
	return ""


func _join_report() -> Dictionary:
	var info := session.client.join_info
	return {
		"player_id": session.client.player_id,
		"spawn": Array(info["position"]),
		"world_seed": info["world_seed"],
		"planet_index": info["planet_index"],
		"map_id": session.client.map_id,
		"url": session.client.url,
		"version": session.client.version,
	}


## Ask for a transfer and wait for the new map's JOIN_ACCEPTED (or the refusal).
func _transfer(a: Dictionary, timeout: float) -> String:
	var to := str(a.get("to", session.next_map_id()))
	var expect := str(a.get("expect", "joined"))
	var seen := {"refused": null, "started": "", "joined": 0, "lost": ""}
	var on_refused := func(reason: String) -> void: seen["refused"] = reason
	var on_started := func(m: String, ep: String) -> void: seen["started"] = "%s %s" % [m, ep]
	var on_joined := func(_p: int, _s: PackedFloat64Array, _t: int) -> void:
		if seen["started"] != "":
			seen["joined"] += 1
	var on_lost := func(code: int, reason: String) -> void:
		if seen["started"] == "":
			seen["lost"] = "%d %s" % [code, reason]
	session.transfer_refused.connect(on_refused)
	session.client.transfer_started.connect(on_started)
	session.client.joined.connect(on_joined)
	session.client.disconnected.connect(on_lost)
	var t_start := _now()
	var before := _join_report()
	var ok := session.request_transfer(to)
	var done := func() -> bool:
		return seen["refused"] != null or seen["joined"] > 0 or seen["lost"] != ""
	if ok:
		ok = await _until(done, timeout)
	session.transfer_refused.disconnect(on_refused)
	session.client.transfer_started.disconnect(on_started)
	session.client.joined.disconnect(on_joined)
	session.client.disconnected.disconnect(on_lost)
	var phase := {"to": to, "before": before, "transfer_to": seen["started"]}
	report["phases"][str(a.get("name", "transfer"))] = phase
	if seen["lost"] != "":
		phase["lost"] = seen["lost"]
		return "the session ended (%s) without a TRANSFER_TO this client could read" % seen["lost"]
	if not ok:
		return (
			"no TRANSFER_TO + JOIN_ACCEPTED nor refusal for %s within %.0f s (%s)"
			% [to, timeout, session.status]
		)
	if seen["refused"] != null:
		phase["refused"] = seen["refused"]
		phase["hud_message"] = _hud_message()
		return "" if expect == "refused" else "transfer refused: %s" % seen["refused"]
	phase["joined"] = _join_report()
	phase["seconds"] = _now() - t_start
	_spawn = session.client.join_info["position"]
	if expect == "refused":
		return "transferred, expected a refusal"
	if a.get("wait_terrain", true):
		var around: Array[Vector3i] = [
			Vector3i((Vector3(_spawn[0], _spawn[1], _spawn[2]) / 16.0).floor())
		]
		var err: String = await _wait_ready(around, timeout)
		if err != "":
			return err
		phase["terrain"] = terrain.stats()
		var src := terrain.source as PSGenChunkSource
		phase["terrain_planet"] = src.planet_index if src != null else -1
		phase["terrain_seconds"] = _now() - t_start
	return ""


func _dig(a: Dictionary, timeout: float) -> String:
	var centre := _below_spawn(float(a.get("depth_m", 1.0)), float(a.get("offset_m", 0.0)))
	var radius := float(a.get("radius", 1.5))
	var mode := int(a.get("mode", PSProtocol.EditMode.EXCAVATE))
	var err: String = await _wait_ready(
		PSEditPredictor.touched_chunks(mode, centre, radius), timeout
	)
	if err != "":
		return err
	var tool: Node = null
	if a.get("via_tool", false):
		tool = await _aim_tool(Vector3(centre[0], centre[1], centre[2]), timeout)
		if tool == null:
			return "the terrain tool found nothing to aim at within %.0f s" % timeout
		centre = tool.call(&"to_world", tool.get(&"aim_point"))
		var state: Object = tool.get(&"state")
		radius = state.get(&"radius_m")
		mode = int(state.get(&"mode"))
		err = await _wait_ready(PSEditPredictor.touched_chunks(mode, centre, radius), timeout)
		if err != "":
			return err
	var touched := PSEditPredictor.touched_chunks(mode, centre, radius)
	var before := _chunk_report(touched)
	session.last_delta_ms = -1.0
	var seq := -1
	if tool != null:
		var request: Dictionary = tool.call(&"apply")
		seq = int(request.get("seq", -1))
	else:
		seq = session.request_edit(mode, centre, radius)
	if seq < 0:
		return "edit not sent"
	_edit = {
		"seq": seq,
		"via": "tool" if tool != null else "session",
		"sent_s": _now(),
		"centre": Array(centre),
		"radius": radius,
		"mode": mode,
		"touched": _coords_json(touched),
		"before": before,
		"predicted_voxels": _chunk_report(touched)["voxels"],
	}
	report["edit"] = _edit
	return ""


## World point [param depth] metres below the spawn point, moved [param offset] metres
## along the surface towards +y (as the Python test computes it), float64.
func _below_spawn(depth: float, offset: float) -> PackedFloat64Array:
	var n := sqrt(_spawn[0] * _spawn[0] + _spawn[1] * _spawn[1] + _spawn[2] * _spawn[2])
	var u := PackedFloat64Array([_spawn[0] / n, _spawn[1] / n, _spawn[2] / n])
	var t := PackedFloat64Array([-u[1] * u[0], 1.0 - u[1] * u[1], -u[1] * u[2]])
	var tn := sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2])
	var out := PackedFloat64Array()
	for i in 3:
		out.append(_spawn[i] + t[i] / tn * offset - u[i] * depth)
	return out


## Wait until chunks [param touched] are received (version known) and meshed (or known
## to be empty air / buried rock without voxels).
func _wait_ready(touched: Array[Vector3i], timeout: float) -> String:
	var ready := func() -> bool:
		for c in touched:
			if session.chunk_version(c) < 0:
				return false
			var implicit := terrain.source.classify(c) != PSChunkSource.UNKNOWN
			if not implicit and not (terrain.store.has_chunk(c) and _meshed_at.has(c)):
				return false
		return true
	if not await _until(ready, timeout):
		return "chunks %s not ready within %.0f s: %s" % [touched, timeout, terrain.stats()]
	return ""


## The spectator's desktop terrain tool, aimed from the camera at world point
## [param target]; null if it has nothing to aim at in time.
func _aim_tool(target: Vector3, timeout: float) -> Node:
	if _tool == null:
		_tool = spectator.get("tool")
	if _tool == null:
		return null
	var camera: Node3D = spectator.get("camera")
	var aim := func() -> bool:
		var eye := camera.global_position
		var at := terrain.origin.world_to_scene(target)
		_tool.look_at_from_position(eye, at, (eye - terrain.origin.planet_centre()).normalized())
		return _tool.call(&"update_aim")
	if not await _until(aim, timeout):
		return null
	return _tool


func _on_edit_feedback(seq: int, accepted: bool, reason: int, text: String) -> void:
	if _edit.is_empty() or seq != int(_edit["seq"]):
		return
	_edit["accepted"] = accepted
	_edit["reason"] = reason
	_edit["reason_text"] = text
	_edit["result_ms"] = session.last_result_ms


func _on_edit_resolved(
	seq: int, _accepted: bool, _reason: int, soil_delta: int, soil_total: int, versions: Array
) -> void:
	if _edit.is_empty() or seq != int(_edit["seq"]):
		return
	var out: Array = []
	for e: Array in versions:
		var c: Vector3i = e[0]
		out.append([c.x, c.y, c.z, e[1]])
	_edit["chunk_versions"] = out
	_edit["soil_delta"] = soil_delta
	_edit["soil_total"] = soil_total


func _wait_edit(a: Dictionary, timeout: float) -> String:
	if not await _until(func() -> bool: return _edit.has("accepted"), timeout):
		return "no EDIT_RESULT within %.0f s" % timeout
	var expect := str(a.get("expect", "any"))
	if expect == "accepted" and not _edit["accepted"]:
		return "edit rejected: %s" % _edit.get("reason_text", "?")
	if expect == "rejected" and _edit["accepted"]:
		return "edit accepted, expected a rejection"
	return ""


## After a rejected edit: the touched chunks show their voxels from before the edit again.
func _check_restored(a: Dictionary, timeout: float) -> String:
	var coords: Array[Vector3i] = []
	for e: Array in _edit.get("touched", []):
		coords.append(Vector3i(e[0], e[1], e[2]))
	var before: Dictionary = _edit["before"]["voxels"]
	var restored := func() -> bool: return _chunk_report(coords)["voxels"] == before
	var ok: bool = await _until(restored, timeout)
	var changed := false
	for k: String in before:
		changed = changed or _edit["predicted_voxels"].get(k) != before[k]
	report["phases"][str(a.get("name", "rejected_edit"))] = {
		"predicted_changed_voxels": changed,
		"restored": ok,
		"reason": _edit.get("reason", -1),
		"reason_text": _edit.get("reason_text", ""),
		"hud_message": _hud_message(),
	}
	return "" if ok else "voxels not restored after the rejection"


func _hud_message() -> String:
	var hud: Node = spectator.get("hud")
	var label: Variant = hud.get("_message") if hud != null else null
	return str((label as Label).text) if label is Label else ""


## Wait until the session is lost and joined again (the server restarted), then until the
## chunks of the last edit are received again; reports them like "report".
func _wait_rejoin(a: Dictionary, timeout: float) -> String:
	var lost := [false]
	var on_lost := func(_code: int, _reason: String) -> void: lost[0] = true
	session.client.disconnected.connect(on_lost)
	var t_start := _now()
	var ok: bool = await _until(func() -> bool: return lost[0], timeout)
	session.client.disconnected.disconnect(on_lost)
	if not ok:
		return "the session was not lost within %.0f s" % timeout
	var t_lost := _now()
	if not await _until(func() -> bool: return session.client.is_joined(), timeout):
		return "not joined again within %.0f s (%s)" % [timeout, session.status]
	var t_joined := _now()
	var chunks := _edit_chunks()
	var received := func() -> bool:
		for c in chunks:
			if session.chunk_version(c) < 0:
				return false
		return true
	if not await _until(received, timeout) or not await _until(terrain.is_idle, timeout):
		return "chunks %s not received again within %.0f s" % [chunks, timeout]
	var rep := _chunk_report(chunks)
	rep["lost_after_s"] = t_lost - t_start
	rep["rejoin_s"] = t_joined - t_lost
	rep["reconnect_delays_s"] = _reconnect_delays
	report["phases"][str(a.get("name", "rejoined"))] = rep
	return ""


## Wait until another player's avatar shows (interpolated) at world [param position].
func _wait_avatar(a: Dictionary, timeout: float) -> String:
	var p: Array = a.get("position", [0, 0, 0])
	var want := Vector3(p[0], p[1], p[2])
	var tol := float(a.get("tolerance", 0.05))
	var t_start := _now()
	var seen := func() -> bool:
		for pid: int in session.avatars.player_ids():
			var ps: Variant = session.avatars.sample(pid, _now())
			if ps != null and (ps["body"]["position"] as Vector3).distance_to(want) <= tol:
				return true
		return false
	if not await _until(seen, timeout):
		return (
			"no avatar at %s within %.0f s (players %s)"
			% [want, timeout, session.avatars.player_ids()]
		)
	for i in 3:
		await get_tree().process_frame
	var node: Node3D = session.avatars.get_avatar(session.avatars.player_ids()[0])
	var shown := (
		terrain.origin.scene_to_world(node.global_position)
		if node != null
		else PackedFloat64Array()
	)
	report["phases"][str(a.get("name", "avatar"))] = {
		"players": session.avatars.player_ids(),
		"node_world_position": Array(shown),
		"wait_s": _now() - t_start,
	}
	return ""


func _wait_synced(timeout: float) -> String:
	if not _edit.get("accepted", false):
		return "edit rejected: %s" % _edit.get("reason_text", "?")
	var done := func() -> bool: return session.last_delta_ms >= 0.0
	if not await _until(done, timeout):
		return "no TERRAIN_DELTA for the edit within %.0f s" % timeout
	_edit["delta_ms"] = session.last_delta_ms
	if not await _until(terrain.is_idle, timeout):
		return "edited chunks not re-meshed within %.0f s" % timeout
	_edit["idle_ms"] = (_now() - float(_edit["sent_s"])) * 1000.0
	return ""


func _wait_foreign(a: Dictionary, timeout: float) -> String:
	var cj: Array = a.get("coord", [0, 0, 0])
	var c := Vector3i(int(cj[0]), int(cj[1]), int(cj[2]))
	var before := _chunk_report([c])
	var v0 := session.chunk_version(c)
	var t_start := _now()
	var newer := func() -> bool: return session.chunk_version(c) > v0
	if not await _until(newer, timeout):
		return "chunk %s stayed at version %d for %.0f s" % [c, v0, timeout]
	var got_at := _now()
	var meshed := func() -> bool: return float(_meshed_at.get(c, 0.0)) >= got_at
	if not await _until(meshed, timeout) or not await _until(terrain.is_idle, timeout):
		return "chunk %s not re-meshed within %.0f s" % [c, timeout]
	report["phases"][str(a.get("name", "foreign_edit"))] = {
		"coord": [c.x, c.y, c.z],
		"version_before": v0,
		"before": before,
		"after": _chunk_report([c]),
		"wait_s": _now() - t_start,
	}
	return ""


func _edit_chunks() -> Array[Vector3i]:
	var out: Array[Vector3i] = []
	for e: Array in _edit.get("chunk_versions", []):
		out.append(Vector3i(e[0], e[1], e[2]))
	if out.is_empty():
		for e: Array in _edit.get("touched", []):
			out.append(Vector3i(e[0], e[1], e[2]))
	return out


## Per chunk: version, voxel SHA-256 (density then material bytes), mesh vertex count and
## SHA-256 of the vertex positions.
func _chunk_report(coords: Array) -> Dictionary:
	var voxels := {}
	var meshes := {}
	var versions := {}
	for c: Vector3i in coords:
		var key := "%d,%d,%d" % [c.x, c.y, c.z]
		versions[key] = session.chunk_version(c)
		var ch := terrain.store.get_chunk(c)
		voxels[key] = _sha([ch.density, ch.material]) if ch != null else ""
		meshes[key] = _mesh_info(c)
	return {"versions": versions, "voxels": voxels, "meshes": meshes}


func _mesh_info(c: Vector3i) -> Dictionary:
	var node := terrain.get_chunk_node(c)
	if node == null or node.mesh == null or node.mesh.get_surface_count() == 0:
		return {"vertices": 0, "sha256": ""}
	var arrays := node.mesh.surface_get_arrays(0)
	var verts: PackedVector3Array = arrays[Mesh.ARRAY_VERTEX]
	return {"vertices": verts.size(), "sha256": _sha([verts.to_byte_array()])}


static func _sha(parts: Array) -> String:
	var ctx := HashingContext.new()
	ctx.start(HashingContext.HASH_SHA256)
	for p: PackedByteArray in parts:
		ctx.update(p)
	return ctx.finish().hex_encode()


static func _coords_json(coords: Array) -> Array:
	var out: Array = []
	for c: Vector3i in coords:
		out.append([c.x, c.y, c.z])
	return out


func _until(cond: Callable, timeout: float) -> bool:
	var end := _now() + timeout
	while _now() < end:
		if cond.call():
			return true
		await get_tree().process_frame
	return cond.call()


func _log(text: String) -> void:
	var line := "%.3f %s" % [_now() - _t0, text]
	(report["log"] as Array).append(line)
	print("AUTOTEST ", line)


func _write() -> void:
	var f := FileAccess.open(_output + ".tmp", FileAccess.WRITE)
	if f == null:
		push_error("autotest: cannot write %s" % _output)
		return
	f.store_string(JSON.stringify(report, " ", true, true))
	f.close()
	DirAccess.rename_absolute(_output + ".tmp", _output)


static func _arg(name: String) -> String:
	var args := OS.get_cmdline_user_args()
	for i in args.size():
		if args[i] == name and i + 1 < args.size():
			return args[i + 1]
		if args[i].begins_with(name + "="):
			return args[i].substr(name.length() + 1)
	return ""


static func _now() -> float:
	return Time.get_ticks_usec() / 1.0e6
