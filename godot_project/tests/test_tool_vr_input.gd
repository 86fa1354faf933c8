extends PSTestCase
## The VR side of the tool without a headset: trigger hysteresis, turning and locomotion
## maths, the action map's bindings.

const ToolScene := preload("res://tool/terrain_tool.tscn")


func test_trigger_applies_once_per_pull() -> void:
	var tool: PSTerrainTool = ToolScene.instantiate()
	add_child(tool)
	var input := PSVrToolInput.new()
	input.tool = tool
	var pulls: Array = []
	input.trigger_pulled.connect(func(v: float) -> void: pulls.append(v))
	assert_false(input.handle_trigger(0.5))
	assert_true(input.handle_trigger(0.9))
	assert_false(input.handle_trigger(1.0), "held")
	assert_false(input.handle_trigger(0.5), "not released below 0.3")
	assert_false(input.handle_trigger(0.8), "still held")
	assert_false(input.handle_trigger(0.1))
	assert_true(input.handle_trigger(0.75))
	assert_eq(pulls.size(), 2)
	input.free()
	tool.queue_free()


func test_snap_turn_needs_recentre() -> void:
	var t := PSXrTurning.new()
	t.style = PSXrTurning.Style.SNAP
	t.snap_angle_deg = 30.0
	assert_almost_eq(t.turn_angle(0.9, 0.016), -deg_to_rad(30.0), 1e-6)
	assert_eq(t.turn_angle(0.95, 0.016), 0.0, "held: no second snap")
	assert_eq(t.turn_angle(0.1, 0.016), 0.0)
	assert_almost_eq(t.turn_angle(-0.8, 0.016), deg_to_rad(30.0), 1e-6)
	t.free()


func test_smooth_turn_rate() -> void:
	var t := PSXrTurning.new()
	t.style = PSXrTurning.Style.SMOOTH
	t.smooth_speed_deg = 90.0
	assert_almost_eq(t.turn_angle(1.0, 0.5), -deg_to_rad(45.0), 1e-6)
	t.free()


func test_deadzone_rescales() -> void:
	assert_eq(PSXrMovementProvider.apply_deadzone(Vector2(0.1, 0.1), 0.2), Vector2.ZERO)
	var v := PSXrMovementProvider.apply_deadzone(Vector2(0, 1), 0.2)
	assert_almost_eq(v.y, 1.0)
	assert_almost_eq(PSXrMovementProvider.apply_deadzone(Vector2(0.6, 0), 0.2).x, 0.5)


func test_turn_keeps_head_in_place_about_local_up() -> void:
	var origin := XROrigin3D.new()
	add_child(origin)
	var cam := XRCamera3D.new()
	cam.position = Vector3(0.3, 1.7, -0.2)
	origin.add_child(cam)
	var t := PSXrTurning.new()
	t.camera_path = NodePath("../" + str(cam.name))
	origin.add_child(t)
	var up := Vector3(1, 1, 0).normalized()
	t.up_source = func(_p: Vector3) -> Vector3: return up
	var head := cam.global_position
	t.turn(deg_to_rad(45.0))
	assert_almost_eq(cam.global_position.distance_to(head), 0.0, 1e-5)
	var expected := Basis(up, deg_to_rad(45.0)).y.dot(Vector3.UP)
	assert_almost_eq(origin.global_basis.y.dot(Vector3.UP), expected, 1e-5)
	origin.queue_free()


func test_locomotion_walks_along_the_surface_and_aligns_up() -> void:
	var origin := XROrigin3D.new()
	add_child(origin)
	var loco := PSXrLocomotion.new()
	loco.follow_ground = false
	origin.add_child(loco)
	var centre := Vector3(0, -1000, 0)
	loco.up_source = func(p: Vector3) -> Vector3: return (p - centre).normalized()
	origin.global_position = Vector3(0, 0, 0)
	origin.global_basis = Basis(Vector3.RIGHT, 0.5)
	loco.align_up()
	assert_almost_eq(origin.global_basis.y.dot(Vector3.UP), 1.0, 1e-5)
	var step := loco.move_vector(Vector2(0, 1), 1.0)
	assert_almost_eq(step.dot(Vector3.UP), 0.0, 1e-5, "horizontal")
	assert_almost_eq(step.length(), loco.speed, 1e-5)
	assert_almost_eq(step.normalized().dot(-origin.global_basis.z), 1.0, 1e-5, "forward")
	origin.queue_free()


func test_action_map_binds_tool_actions_for_common_and_remote_controllers() -> void:
	var map: OpenXRActionMap = load("res://openxr_action_map.tres")
	assert_not_null(map)
	var wanted := {
		"/interaction_profiles/khr/simple_controller":
		["trigger", "aim_pose", "mode_cycle", "haptic"],
		"/interaction_profiles/valve/index_controller":
		["trigger", "primary", "mode_cycle", "haptic"],
		"/interaction_profiles/oculus/touch_controller":
		["trigger", "primary", "mode_cycle", "haptic"],
		"/interaction_profiles/htc/vive_controller": ["trigger", "primary", "mode_cycle", "haptic"],
		"/interaction_profiles/microsoft/motion_controller": ["trigger", "primary", "mode_cycle"],
	}
	var found := {}
	for i in map.get_interaction_profile_count():
		var p := map.get_interaction_profile(i)
		var names := {}
		for b in p.bindings:
			var binding := b as OpenXRIPBinding
			names[binding.action.resource_name + binding.binding_path.get_slice("/", 3)] = true
		found[p.interaction_profile_path] = names
	for path: String in wanted:
		assert_true(found.has(path), path)
		if not found.has(path):
			continue
		for action: String in wanted[path]:
			for side in ["left", "right"]:
				assert_true(found[path].has(action + side), "%s %s %s" % [path, action, side])
