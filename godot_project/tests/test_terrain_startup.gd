extends PSTestCase
## Start-up choice (VR or spectator) and the command-line options.

const Main := preload("res://main.gd")
const SPECTATOR_SCENE := preload("res://desktop/spectator.tscn")


func test_vr_only_when_openxr_initialised_and_the_scene_exists() -> void:
	assert_eq(Main.choose_scene(true, true, false), [Main.VR_SCENE, ""])
	var no_xr: Array = Main.choose_scene(false, true, false)
	assert_eq(no_xr[0], Main.SPECTATOR_SCENE)
	assert_true(String(no_xr[1]).contains("OpenXR"), "says why: %s" % no_xr[1])
	var no_scene: Array = Main.choose_scene(true, false, false)
	assert_eq(no_scene[0], Main.SPECTATOR_SCENE)
	assert_ne(no_scene[1], "")
	assert_eq(Main.choose_scene(true, true, true), [Main.SPECTATOR_SCENE, ""])


func test_options_parse_server_spectator_key_and_world() -> void:
	var o := PSLaunchOptions.new()
	assert_true(o.parse(PackedStringArray([
		"--server", "ws://127.0.0.1:8765", "--spectator", "--auth-key-file", "/tmp/k",
		"--world-seed", "9223372036854775807", "--planet=2",
	])), "errors: %s" % o.errors)
	assert_eq(o.server_url, "ws://127.0.0.1:8765")
	assert_eq(o.server_host, "127.0.0.1")
	assert_eq(o.server_port, 8765)
	assert_true(o.spectator)
	assert_eq(o.auth_key_file, "/tmp/k")
	assert_eq(o.world_seed, 9223372036854775807)
	assert_eq(o.planet, 2)
	o.free()


func test_options_take_an_orchestrator_url() -> void:
	var o := PSLaunchOptions.new()
	assert_true(o.parse(PackedStringArray(["--server", "http://127.0.0.1:7777"])), str(o.errors))
	assert_eq(o.server_url, "http://127.0.0.1:7777")
	assert_eq(o.server_host, "127.0.0.1")
	assert_eq(o.server_port, 7777)
	assert_true(o.server_bootstrap, "http:// is the orchestrator")
	assert_true(o.parse(PackedStringArray(["--server", "https://play.example.org"])))
	assert_eq(o.server_port, 443, "default port")
	assert_eq(o.server_host, "play.example.org")
	var d := PSLaunchOptions.new()
	assert_true(d.parse(PackedStringArray(["--server", "wss://[::1]:9000"])), str(d.errors))
	assert_false(d.server_bootstrap, "ws:// joins one server directly")
	assert_eq(d.server_host, "::1")
	assert_eq(d.server_port, 9000)
	o.free()
	d.free()


func test_options_reject_bad_values() -> void:
	var o := PSLaunchOptions.new()
	assert_false(o.parse(PackedStringArray(["--server", "ftp://x:1"])))
	assert_false(o.parse(PackedStringArray(["--server", "x:1"])))
	assert_false(o.parse(PackedStringArray(["--server", "http://x:70000"])))
	assert_false(o.parse(PackedStringArray(["--server", "ws://host"])))
	assert_false(o.parse(PackedStringArray(["--world-seed", "9223372036854775808"])))
	assert_false(o.parse(PackedStringArray(["--world-seed", "-1"])))
	assert_false(o.parse(PackedStringArray(["--planet", "x"])))
	assert_true(o.parse(PackedStringArray(["--bogus"])), "other tools' arguments pass")
	assert_eq(o.ignored, PackedStringArray(["--bogus"]))
	assert_eq(o.world_seed, PSLaunchOptions.DEFAULT_WORLD_SEED, "defaults kept")
	o.free()


func test_spectator_follows_targets() -> void:
	var spec: PSSpectator = SPECTATOR_SCENE.instantiate()
	spec.set_process(false)
	add_child(spec)
	spec.terrain.set_process(false)
	assert_eq(spec.mode(), "free-fly")
	var a := Node3D.new()
	a.name = "alice"
	var b := Node3D.new()
	b.name = "bob"
	add_child(a)
	add_child(b)
	spec.add_follow_target(a)
	spec.add_follow_target(b)
	spec.follow_next()
	assert_eq(spec.mode(), "following alice")
	spec.follow_next()
	assert_eq(spec.mode(), "following bob")
	b.queue_free()
	await get_tree().process_frame
	assert_eq(spec.mode(), "free-fly", "a target that leaves stops being followed")
	assert_eq(spec.follow_targets.size(), 1)
	a.queue_free()
	spec.queue_free()
	await get_tree().process_frame


func test_spectator_has_the_terrain_tool_on_mouse_and_keyboard() -> void:
	var spec: PSSpectator = SPECTATOR_SCENE.instantiate()
	spec.set_process(false)
	add_child(spec)
	spec.terrain.set_process(false)
	assert_true(spec.tool != null, "the spectator instances the terrain tool")
	var input := spec.get_node_or_null(^"ToolInput") as PSDesktopToolInput
	assert_true(input != null, "a PSDesktopToolInput drives it")
	assert_true(input.tool == spec.tool and input.camera == spec.camera)
	assert_true(spec.tool.origin == spec.terrain.origin, "the tool aims in world coordinates")
	assert_eq(spec.session, null, "offline without --server")
	spec.tool.state.set_mode(PSToolState.Mode.ELEVATE)
	assert_eq(spec.hud_mode(), "free-fly, tool elevate r=1.50 m")
	spec.queue_free()
	await get_tree().process_frame
