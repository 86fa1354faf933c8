extends PSTestCase
## PSTerrainTool against real physics: aim ray, preview, world coordinates through a
## floating origin, sending through a network node, haptics and canisters on results.

const ToolScene := preload("res://tool/terrain_tool.tscn")


class FakeNet:
	extends Node
	var sent: Array = []

	func request_edit(mode: int, centre: PackedFloat64Array, radius: float) -> int:
		sent.append([mode, centre, radius])
		return 100 + sent.size()


var _ground: StaticBody3D
var _tool: PSTerrainTool
var _haptics: Array[StringName] = []


func before_each() -> void:
	_ground = StaticBody3D.new()
	var shape := CollisionShape3D.new()
	var box := BoxShape3D.new()
	box.size = Vector3(40, 2, 40)
	shape.shape = box
	_ground.add_child(shape)
	_ground.position = Vector3(0, -1, 0)  # top face at y = 0
	add_child(_ground)
	_tool = ToolScene.instantiate()
	add_child(_tool)
	_haptics.clear()
	_tool.haptic_requested.connect(func(k: StringName) -> void: _haptics.append(k))
	await get_tree().physics_frame
	await get_tree().physics_frame


func after_each() -> void:
	_tool.queue_free()
	_ground.queue_free()
	await get_tree().process_frame


func _aim(from: Vector3, target: Vector3) -> void:
	_tool.global_transform = Transform3D(Basis.looking_at(target - from, Vector3.FORWARD), from)
	_tool.update_aim()


func test_aims_at_ground_within_reach_and_shows_preview() -> void:
	_aim(Vector3(1, 2, 3), Vector3(1, 0, 3))
	assert_true(_tool.aim_valid)
	assert_almost_eq(_tool.aim_point.distance_to(Vector3(1, 0, 3)), 0.0, 1e-3)
	assert_true(_tool.preview.visible)
	_tool.state.set_radius(3.0)
	assert_almost_eq(_tool.preview.global_transform.basis.get_scale().x, 3.0, 1e-4)
	assert_almost_eq(_tool.preview.global_position.distance_to(_tool.aim_point), 0.0, 1e-4)


func test_nothing_beyond_reach() -> void:
	_aim(Vector3(0, PSToolState.REACH_M + 1.0, 0), Vector3(0, 0, 0))
	assert_false(_tool.aim_valid)
	assert_false(_tool.preview.visible)
	assert_true(_tool.apply().is_empty())
	assert_eq(_haptics, [PSTerrainTool.HAPTIC_REJECT] as Array[StringName])


func test_apply_sends_world_centre_through_net() -> void:
	var net := FakeNet.new()
	add_child(net)
	_tool.net = net
	_tool.origin = PSFloatingOrigin.new()
	_tool.origin.origin_chunk = Vector3i(10, -2, 62500)
	_tool.state.set_mode(PSToolState.Mode.ELEVATE)
	_tool.state.set_radius(1.25)
	_aim(Vector3(2, 3, 4), Vector3(2, 0, 4))
	var req := _tool.apply()
	assert_eq(net.sent.size(), 1)
	var sent: Array = net.sent[0]
	assert_eq(sent[0], 1, "mode elevate")
	var c: PackedFloat64Array = sent[1]
	assert_almost_eq(c[0], 160.0 + 2.0, 1e-3)
	assert_almost_eq(c[1], -32.0 + 0.0, 1e-3)
	assert_almost_eq(c[2], 1000000.0 + 4.0, 1e-3)
	assert_almost_eq(sent[2], 1.25)
	assert_eq(req["seq"], 101, "the net's sequence number is used")
	assert_true(_tool.pending.has(req["seq"]))
	assert_eq(_haptics, [PSTerrainTool.HAPTIC_APPLY] as Array[StringName])
	net.queue_free()


func test_offline_apply_is_emitted_but_rejected_haptically() -> void:
	var got: Array = []
	_tool.edit_requested.connect(func(r: Dictionary) -> void: got.append(r))
	_aim(Vector3(0, 1, 0), Vector3(0, 0, 0))
	_tool.apply()
	assert_eq(got.size(), 1)
	assert_true(_tool.pending.is_empty())
	assert_eq(_haptics, [PSTerrainTool.HAPTIC_REJECT] as Array[StringName])


func test_resolve_updates_canisters_and_rejection_haptic() -> void:
	_tool.canister_capacity = 1000
	_tool.set_canisters(PackedInt32Array([0, 0]))
	var soil: Array = []
	_tool.soil_changed.connect(func(u: PackedInt32Array) -> void: soil.append(u))
	_tool.pending[7] = {}
	_tool.resolve(7, true, 0, 1500, 1500)
	assert_false(_tool.pending.has(7))
	assert_eq(soil[-1], PackedInt32Array([1000, 500]))
	assert_true(_haptics.is_empty())
	_tool.resolve(8, false, 4, 0, 1500)
	assert_eq(_haptics, [PSTerrainTool.HAPTIC_REJECT] as Array[StringName])


func test_canister_display_fill() -> void:
	var d := PSCanisterDisplay.new()
	d.capacity = 16000
	add_child(d)
	d.show_soil(PackedInt32Array([16000, 4000]))
	assert_almost_eq(d.fill_fraction(4000), 0.25)
	assert_almost_eq(d.fill_fraction(20000), 1.0)
	assert_eq(d.shown_units(), PackedInt32Array([16000, 4000]))
	d.queue_free()


func test_desktop_input_aims_from_camera_and_maps_keys() -> void:
	var cam := Camera3D.new()
	add_child(cam)
	cam.global_transform = Transform3D(
		Basis.looking_at(Vector3.DOWN, Vector3.FORWARD), Vector3(3, 4, 2)
	)
	var input := PSDesktopToolInput.new()
	input.tool = _tool
	input.camera = cam
	add_child(input)
	input.aim_through(cam.get_viewport().get_visible_rect().size * 0.5)
	assert_true(_tool.update_aim(), "aims through the screen centre")
	assert_almost_eq(_tool.aim_point.distance_to(Vector3(3, 0, 2)), 0.0, 0.01)
	var got: Array = []
	_tool.edit_requested.connect(func(r: Dictionary) -> void: got.append(r))
	input._unhandled_input(_action(&"ps_tool_elevate"))
	input._unhandled_input(_action(&"ps_tool_radius_up"))
	assert_eq(_tool.state.mode, PSToolState.Mode.ELEVATE)
	assert_almost_eq(_tool.state.radius_m, PSToolState.RADIUS_DEFAULT_M + 0.25)
	var wheel := InputEventMouseButton.new()
	wheel.button_index = MOUSE_BUTTON_WHEEL_DOWN
	wheel.pressed = true
	input._unhandled_input(wheel)
	assert_almost_eq(_tool.state.radius_m, PSToolState.RADIUS_DEFAULT_M)
	input._unhandled_input(_action(&"ps_tool_cycle_mode"))
	assert_eq(_tool.state.mode, PSToolState.Mode.FLATTEN)
	input.camera = null  # keep the aim set above (the cursor is not over the view headless)
	input._unhandled_input(_action(&"ps_tool_apply"))
	assert_eq(got.size(), 1, "left click / apply action applies")
	assert_eq(got[0]["mode"], int(PSToolState.Mode.FLATTEN))
	input.queue_free()
	cam.queue_free()


static func _action(action: StringName) -> InputEventAction:
	var ev := InputEventAction.new()
	ev.action = action
	ev.pressed = true
	return ev
