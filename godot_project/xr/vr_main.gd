class_name PSVrMain
extends Node3D
## The VR scene: the planet's terrain streamed around the player, the XR rig
## (XROrigin3D, XRCamera3D, two XRController3D), the terrain tool on the dominant hand,
## the soil canisters on the other, thumbstick locomotion on the surface and turning.
## Started by main.gd when OpenXR initialised (it sets [code]use_xr[/code]).
##
## It places the player on the planet of [PSLaunchOptions] (--world-seed, --planet); with
## [code]--server URL[/code] it joins through a [PSNetSession] (its spawn point moves the
## player, the tool's edits go through it, head and hands are sent as PLAYER_TRANSFORM).
## With [code]--xr-test-log=PATH[/code] it logs what the tool and the right controller do
## (see [PSXrTestLog]). The off hand's menu / face button ([member transfer_action]) asks
## the server for a transfer to the next planet ([method PSNetSession.request_next_planet]).

## Keep the tool on the right hand (false: left-handed players).
@export var right_handed := true
## Seconds between controller pose lines in the test log.
@export_range(0.05, 5.0, 0.05, "suffix:s") var log_interval := 0.25
## The off hand's action that asks for a transfer to the next planet.
@export var transfer_action := &"mode_cycle"

## The game session (null offline).
var session: PSNetSession
var _log_timer := 0.0
var _last_tool_mode := ""
var _last_tool_radius := -1.0
var _last_logged := {}

@onready var terrain: PSTerrainStreamer = $Terrain
@onready var rig: XROrigin3D = $Rig
@onready var camera: XRCamera3D = $Rig/Camera
@onready var left_hand: XRController3D = $Rig/LeftHand
@onready var right_hand: XRController3D = $Rig/RightHand
@onready var tool: PSTerrainTool = $Rig/RightHand/TerrainTool
@onready var beam: Node3D = $Rig/RightHand/Beam
@onready var tool_input: PSVrToolInput = $Rig/RightHand/ToolInput
@onready var canisters: PSCanisterDisplay = $Rig/LeftHand/Canisters
@onready var locomotion: PSXrLocomotion = $Rig/Locomotion
@onready var turning: PSXrTurning = $Rig/Turning
@onready var test_log: PSXrTestLog = $TestLog


func _ready() -> void:
	tool_input.tool = tool
	tool.haptic_requested.connect(tool_input.play_haptic)
	tool.origin = terrain.origin
	tool.soil_changed.connect(canisters.show_soil)
	locomotion.up_source = terrain.origin.up_at
	locomotion.density_source = terrain_density
	turning.up_source = terrain.origin.up_at
	if not right_handed:
		set_dominant_hand(false)
	var opts := _options()
	if opts.view_radius > 0:
		terrain.view_radius = opts.view_radius
	var source := PSGenChunkSource.create(opts.world_seed, opts.planet)
	if source == null:
		push_error("VR: no planet %d in world %d" % [opts.planet, opts.world_seed])
	else:
		var start := _surface_point(source)
		terrain.origin.origin_chunk = Vector3i((start / PSFloatingOrigin.CHUNK_M).floor())
		place_player(start)
		# with a server the session configures the terrain once it knows the spawn point
		if opts.server_url.is_empty():
			terrain.configure(source, rig)
	_connect_log()
	for hand: XRController3D in [left_hand, right_hand]:
		hand.button_pressed.connect(_on_hand_button.bind(hand))
	if not opts.server_url.is_empty():
		start_session(opts.server_url, PSNetSession.read_auth_key(opts.auth_key_file))


## Join [param url] through a new [PSNetSession] ([param auth_key] "" = disposable).
func start_session(url: String, auth_key: String = "") -> void:
	session = PSNetSession.new()
	session.name = "NetSession"
	session.place_focus_at_spawn = false
	add_child(session)
	session.setup(terrain, rig)
	session.pose_provider = pose_set
	session.client.joined.connect(_on_joined)
	attach_net(session)
	session.start(url, auth_key, "vr-player")


## The pose set sent as PLAYER_TRANSFORM: the rig (feet) planet-centred, head and tracked
## hands relative to it (docs/protocol.md, pose set).
func pose_set() -> Dictionary:
	var w := terrain.origin.scene_to_world(rig.global_position)
	var body := PSCodec.pose(Vector3(w[0], w[1], w[2]), rig.global_basis.get_rotation_quaternion())
	return PSCodec.pose_set(
		body, _local_pose(camera), _hand_pose(left_hand), _hand_pose(right_hand)
	)


## The terrain's density at scene point [param p] (see [method PSChunkStore.sample_density]),
## for the locomotion's push-out. Chunks not in the store count as air: the streamer knows
## chunks of open sky without storing their voxels.
func terrain_density(p: Vector3) -> float:
	return terrain.store.sample_density(terrain.origin.origin_chunk, p, -127.0)


## Put the rig's feet at world point [param world] (metres from the planet's centre),
## upright, facing along the local horizon. The floating origin follows on its own.
func place_player(world: Vector3) -> void:
	var p := terrain.origin.world_to_scene(world)
	var up := terrain.origin.up_at(p)
	var forward := up.cross(Vector3.RIGHT)
	if forward.length_squared() < 1e-6:
		forward = up.cross(Vector3.FORWARD)
	rig.global_transform = Transform3D(Basis.looking_at(forward.normalized(), up), p)


## Use [param net] (a [PSNetSession], or anything with [code]request_edit(mode, centre,
## radius) -> seq[/code]) for edit requests; the [code]edit_resolved[/code] signal of its
## [PSNetClient] reaches [method PSTerrainTool.resolve].
func attach_net(net: Node) -> void:
	tool.net = net
	var client: Object = net.get(&"client") if &"client" in net else net
	if client != null and client.has_signal(&"edit_resolved"):
		if not client.is_connected(&"edit_resolved", _on_edit_resolved):
			client.connect(&"edit_resolved", _on_edit_resolved)


## Put the tool on the right hand ([param right] true) or the left one, the canisters on
## the other.
func set_dominant_hand(right: bool) -> void:
	var tool_hand := right_hand if right else left_hand
	var off_hand := left_hand if right else right_hand
	tool.reparent(tool_hand, false)
	beam.reparent(tool_hand, false)
	tool_input.reparent(tool_hand, false)
	tool_input.controller = tool_hand
	canisters.reparent(off_hand, false)
	locomotion.controller = off_hand
	turning.controller = tool_hand


func _on_joined(player_id: int, spawn: PackedFloat64Array, tick: int) -> void:
	place_player(Vector3(spawn[0], spawn[1], spawn[2]))
	var units := PackedInt32Array()
	for c: int in session.client.join_info.get("canisters", PackedInt64Array()):
		units.append(c)
	tool.set_canisters(units)
	if test_log.enabled():
		var row := {"player": player_id, "spawn": spawn, "tick": tick, "canisters": units}
		test_log.event("joined", row)


## The off hand's [member transfer_action]: ask for the next planet (the tool's hand
## cycles the tool mode with the same button).
func _on_hand_button(action: String, hand: XRController3D) -> void:
	if action != String(transfer_action) or hand == tool_input.controller or session == null:
		return
	var to := session.request_next_planet()
	if test_log.enabled():
		test_log.event("transfer_requested", {"to": to})


func _local_pose(n: Node3D) -> Dictionary:
	var t := rig.global_transform.affine_inverse() * n.global_transform
	return PSCodec.pose(t.origin, t.basis.get_rotation_quaternion())


func _hand_pose(hand: XRController3D) -> Variant:
	return _local_pose(hand) if hand.get_has_tracking_data() else null



func _on_edit_resolved(
	seq: int, accepted: bool, reason: int, soil_delta: int, soil_total: int, ...rest: Array
) -> void:
	if test_log.enabled():
		var chunks: Array = []
		if not rest.is_empty() and rest[0] is Array:
			for cv: Array in rest[0]:
				var c: Vector3i = cv[0]
				chunks.append([[c.x, c.y, c.z], cv[1]])
		var row := {
			"seq": seq,
			"accepted": accepted,
			"reason": reason,
			"soil_delta": soil_delta,
			"soil_total": soil_total,
			"chunks": chunks,
		}
		test_log.event("resolved", row)
	tool.resolve(seq, accepted, reason, soil_delta, soil_total)


func _physics_process(delta: float) -> void:
	if not test_log.enabled():
		return
	_log_timer += delta
	if _log_timer < log_interval:
		return
	_log_timer = 0.0
	var hand := tool_input.controller
	var row := {
		"hand": hand.tracker,
		"tracked": hand.get_has_tracking_data(),
		"active": hand.get_is_active(),
		"profile": _profile(hand.tracker),
		"fps": Engine.get_frames_per_second(),
		"poses": _poses(hand.tracker),
		"position": rig.global_transform.affine_inverse() * hand.global_position,
		"trigger": hand.get_float(&"trigger"),
		"stick": hand.get_vector2(&"primary"),
		"aim_valid": tool.aim_valid,
		"aim_point": tool.aim_point,
		"radius": tool.state.radius_m,
		"mode": tool.state.mode_name(),
		"terrain": terrain.stats().get("meshes", -1),
	}
	var key := str([row["tracked"], row["aim_valid"], row["radius"], row["mode"], row["trigger"]])
	if _last_logged.get("key", "") == key and _last_logged.get("n", 0) % 8 != 0:
		_last_logged["n"] = _last_logged.get("n", 0) + 1
		return
	_last_logged = {"key": key, "n": 1}
	test_log.event("controller", row)


func _connect_log() -> void:
	if not test_log.enabled():
		return
	var xr := XRServer.find_interface("OpenXR")
	if xr != null:
		for sig: StringName in [&"session_begun", &"session_visible", &"session_focussed"]:
			if xr.has_signal(sig):
				xr.connect(sig, _log_session.bind(String(sig)))
	var ready_row := {
		"xr": xr != null and xr.is_initialized(),
		"render_size": xr.get_render_target_size() if xr != null else Vector2.ZERO,
		"use_xr": get_viewport().use_xr,
		"origin_chunk": Vector3(terrain.origin.origin_chunk),
		"net": tool.net != null,
	}
	test_log.event("ready", ready_row)
	tool_input.trigger_pulled.connect(_log_trigger)
	tool.edit_requested.connect(_log_apply)
	tool.haptic_requested.connect(_log_haptic)
	tool.state.changed.connect(_log_tool)
	tool.aim_changed.connect(_log_aim)


func _log_session(state: String) -> void:
	test_log.event("xr_session", {"state": state})


func _log_trigger(value: float) -> void:
	test_log.event("trigger", {"value": value, "aim_valid": tool.aim_valid})


func _log_apply(r: Dictionary) -> void:
	var row := {
		"seq": r["seq"],
		"mode": PSToolState.MODE_NAMES[r["mode"]],
		"radius": r["radius"],
		"centre": r["centre"],
		"scene_point": r["scene_point"],
		"sent": tool.pending.has(r["seq"]),
	}
	test_log.event("apply", row)


func _log_haptic(kind: StringName) -> void:
	test_log.event("haptic", {"kind": kind})


func _log_tool() -> void:
	# one line per mode change, 0.1 m of radius (the thumbstick changes it every frame) or
	# radius limit reached
	var r := tool.state.radius_m
	var at_limit := r == PSToolState.RADIUS_MIN_M or r == PSToolState.RADIUS_MAX_M
	if tool.state.mode_name() == _last_tool_mode and absf(r - _last_tool_radius) < 0.1:
		if not at_limit:
			return
	_last_tool_mode = tool.state.mode_name()
	_last_tool_radius = r
	test_log.event("tool", {"mode": tool.state.mode_name(), "radius": tool.state.radius_m})


func _log_aim(valid: bool) -> void:
	test_log.event("aim", {"valid": valid, "point": tool.aim_point})


static func _poses(tracker_name: StringName) -> Dictionary:
	var t := XRServer.get_tracker(tracker_name) as XRControllerTracker
	var out := {}
	if t == null:
		return out
	for pose_name: StringName in [&"aim", &"grip"]:
		var pose := t.get_pose(pose_name)
		if pose != null:
			out[String(pose_name)] = [pose.has_tracking_data, pose.tracking_confidence]
	return out


static func _profile(tracker_name: StringName) -> String:
	var t := XRServer.get_tracker(tracker_name) as XRControllerTracker
	return t.profile if t != null else ""


func _surface_point(source: PSGenChunkSource) -> Vector3:
	var p := source.params
	var dir := Vector3(0.3, 1.0, 0.2).normalized()
	var s := dir * p.radius
	var h := PSGenPlanet.terrain_height(p, s.x, s.y, s.z)
	return dir * (p.radius + maxf(h, 0.0) + 0.5)


func _options() -> PSLaunchOptions:
	var opts: PSLaunchOptions = get_node_or_null(^"/root/PSOptions")
	if opts == null:
		opts = PSLaunchOptions.new()
	return opts
