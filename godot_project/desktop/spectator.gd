class_name PSSpectator
extends Node3D
## The desktop spectator: a free-fly camera over the streamed planet, or a camera that
## follows one of [member follow_targets] (the net layer adds the players' nodes there),
## and a HUD. A parallel scene to the VR one, not a branch inside it.
##
## Keys: Tab follows the next target, F returns to free flight, T asks the server for a
## transfer to the next planet ("planet-<index + 1>"; actions ps_follow_next, ps_free_fly,
## ps_transfer_next). The terrain tool is on mouse and keyboard ([PSDesktopToolInput]:
## left click applies, wheel or [ ] change the radius, M / 1 / 2 / 3 the mode). With
## [code]--server URL[/code] a [PSNetSession] joins that server and the tool edits through
## it; offline the tool only previews. The net layer sets [member connection],
## [member tick], [member soil] and the targets; their names are the players on the HUD.
##
## With [code]--screenshot PATH[/code] (see [PSLaunchOptions]) it waits until the terrain
## around the camera is loaded, saves the view as a PNG, prints [code]SCREENSHOT PATH[/code]
## and quits (exit code 0, or 1 if the image could not be saved).

## The terrain tool scene (shared with the VR rig).
const TOOL_SCENE := preload("res://tool/terrain_tool.tscn")

## Camera height above the terrain at start, and its distance behind a followed target.
@export_range(0.5, 200.0, 0.5, "suffix:m") var start_height := 7.0
@export_range(1.0, 50.0, 0.5, "suffix:m") var follow_distance := 6.0
## Give up waiting for the terrain before a screenshot after this long.
@export_range(5.0, 600.0, 1.0, "suffix:s") var screenshot_timeout := 240.0

## Text shown at the top of the screen at start (e.g. why VR is not running).
var startup_message := ""
## Connection state text for the HUD ("offline", "connecting", "connected", ...).
var connection := "offline"
## Latest server tick, -1 before any.
var tick := -1
## Soil status text for the HUD.
var soil := "-"
## Nodes the camera can follow (players); filled by the net layer.
var follow_targets: Array[Node3D] = []
## The terrain tool (mouse and keyboard).
var tool: PSTerrainTool
## The game session when started with --server (null offline).
var session: PSNetSession

var _following: Node3D
var _elapsed := 0.0
var _shooting := false

@onready var terrain: PSTerrainStreamer = $Terrain
@onready var camera: PSFreeFlyCamera = $Camera
@onready var hud: PSSpectatorHud = $Hud


func _ready() -> void:
	_ensure_actions()
	camera.up_source = terrain.origin.up_at
	var opts := _options()
	if opts.view_radius > 0:
		terrain.view_radius = opts.view_radius
	connection = "offline" if opts.server_url.is_empty() else "not connected (%s)" % opts.server_url
	var source := PSGenChunkSource.create(opts.world_seed, opts.planet)
	if source == null:
		startup_message = _join(
			startup_message, "No planet %d in world %d." % [opts.planet, opts.world_seed]
		)
	else:
		_place_camera(source)
		terrain.configure(source, camera)
	_add_tool()
	if not opts.server_url.is_empty():
		_start_session(opts)
	hud.show_message(startup_message)
	_update_hud()
	_level_sky()
	if not opts.screenshot_path.is_empty():
		_shoot(opts.screenshot_path)


## Follow [param target] with the camera (null: free flight).
func follow(target: Node3D) -> void:
	_following = target
	camera.controls_enabled = target == null
	_update_hud()


## Add a followable node (a player); removed automatically when it leaves the tree.
func add_follow_target(target: Node3D) -> void:
	if target in follow_targets:
		return
	follow_targets.append(target)
	target.tree_exiting.connect(remove_follow_target.bind(target), CONNECT_ONE_SHOT)
	_update_hud()


func remove_follow_target(target: Node3D) -> void:
	follow_targets.erase(target)
	if _following == target:
		follow(null)
	_update_hud()


## Follow the next target in [member follow_targets] (after the current one).
func follow_next() -> void:
	if follow_targets.is_empty():
		follow(null)
		return
	var i := follow_targets.find(_following)
	follow(follow_targets[(i + 1) % follow_targets.size()])


## Camera mode ("free-fly" or "following NAME").
func mode() -> String:
	if _following != null:
		return "following %s" % _following.name
	return "free-fly"


## The HUD's mode line: camera mode, then the tool's mode and radius.
func hud_mode() -> String:
	if tool == null:
		return mode()
	return "%s, tool %s r=%.2f m" % [mode(), tool.state.mode_name(), tool.state.radius_m]


func _add_tool() -> void:
	tool = TOOL_SCENE.instantiate() as PSTerrainTool
	tool.name = "TerrainTool"
	add_child(tool)
	tool.origin = terrain.origin
	var input := PSDesktopToolInput.new()
	input.name = "ToolInput"
	input.tool = tool
	input.camera = camera
	add_child(input)


func _start_session(opts: PSLaunchOptions) -> void:
	session = PSNetSession.new()
	session.name = "NetSession"
	add_child(session)
	session.setup(terrain, camera, self)
	session.hud_owner = self
	session.attach_tool(tool)
	session.start(opts.server_url, PSNetSession.read_auth_key(opts.auth_key_file), "spectator")


func _unhandled_input(event: InputEvent) -> void:
	if event.is_action_pressed(&"ps_follow_next"):
		follow_next()
	elif event.is_action_pressed(&"ps_free_fly"):
		follow(null)
	elif event.is_action_pressed(&"ps_transfer_next"):
		request_next_planet()


## Ask the server to move this player to the next planet (key T). Returns the map id asked
## for, or "" (offline, not joined); a refusal shows on the HUD.
func request_next_planet() -> String:
	if session == null:
		hud.show_message("Transfers need a server (--server)")
		return ""
	var to := session.request_next_planet()
	if not to.is_empty():
		hud.show_message("Transfer to %s requested" % to)
	return to


func _process(delta: float) -> void:
	_elapsed += delta
	_level_sky()
	if _following != null and is_instance_valid(_following):
		var up := terrain.origin.up_at(_following.global_position)
		var back := _following.global_basis.z
		if absf(back.dot(up)) < 0.99:
			back = (back - up * back.dot(up)).normalized()
		else:
			back = up.cross(Vector3.RIGHT).normalized()
		var eye := _following.global_position + back * follow_distance + up * follow_distance * 0.5
		camera.global_position = camera.global_position.lerp(eye, minf(1.0, delta * 5.0))
		camera.look_along(_following.global_position - camera.global_position)
	_update_hud()


## Turn the sky so its horizon matches the planet's at the camera (the sky's up is +Y).
func _level_sky() -> void:
	var env := ($WorldEnvironment as WorldEnvironment).environment
	var up := terrain.origin.up_at(camera.global_position)
	var axis := Vector3.UP.cross(up)
	if axis.length_squared() < 1e-10:
		env.sky_rotation = Vector3.ZERO
		return
	var q := Quaternion(axis.normalized(), Vector3.UP.angle_to(up))
	env.sky_rotation = Basis(q).get_euler()


func _update_hud() -> void:
	if hud == null:
		return
	var names := PackedStringArray()
	for t in follow_targets:
		names.append(str(t.name))
	hud.show_status({
		"connection": connection, "tick": tick, "players": names, "soil": soil, "mode": hud_mode()
	})
	hud.show_terrain(terrain.stats())


## Put the camera [member start_height] above the terrain and look towards the horizon,
## slightly down, so the view holds both ground and sky.
func _place_camera(source: PSGenChunkSource) -> void:
	var p := source.params
	var dir := Vector3(0.3, 1.0, 0.2).normalized()
	var s := dir * p.radius
	var h := PSGenPlanet.terrain_height(p, s.x, s.y, s.z)
	var world := dir * (p.radius + maxf(h, 0.0) + start_height)
	terrain.origin.origin_chunk = Vector3i((world / PSFloatingOrigin.CHUNK_M).floor())
	camera.global_position = terrain.origin.world_to_scene(world)
	var up := dir
	var tangent := up.cross(Vector3.RIGHT).normalized()
	camera.look_along((tangent - up * 0.25).normalized())


func _shoot(path: String) -> void:
	if _shooting:
		return
	_shooting = true
	# render rarely while waiting: the CPU goes to terrain generation
	var fps := Engine.max_fps
	Engine.max_fps = 5
	while not terrain.is_idle() and _elapsed < screenshot_timeout:
		await get_tree().process_frame
	if not terrain.is_idle():
		push_warning("screenshot: terrain still loading after %.0f s" % _elapsed)
	Engine.max_fps = fps
	for i in 8:
		await get_tree().process_frame
	await RenderingServer.frame_post_draw
	var image := get_viewport().get_texture().get_image()
	var abs_path := path if path.is_absolute_path() else OS.get_environment("PWD").path_join(path)
	DirAccess.make_dir_recursive_absolute(abs_path.get_base_dir())
	var err := image.save_png(abs_path)
	print("SCREENSHOT %s %s %s" % [abs_path, error_string(err), terrain.stats()])
	get_tree().quit(0 if err == OK else 1)


func _options() -> PSLaunchOptions:
	var opts: PSLaunchOptions = get_node_or_null(^"/root/PSOptions")
	if opts == null:
		opts = PSLaunchOptions.new()
	return opts


static func _join(a: String, b: String) -> String:
	return b if a.is_empty() else a + " " + b


static func _ensure_actions() -> void:
	var keys := {&"ps_follow_next": KEY_TAB, &"ps_free_fly": KEY_F, &"ps_transfer_next": KEY_T}
	for action: StringName in keys:
		if InputMap.has_action(action):
			continue
		InputMap.add_action(action)
		var ev := InputEventKey.new()
		ev.physical_keycode = keys[action]
		InputMap.action_add_event(action, ev)
