extends PSTestCase
## res://xr/vr_main.tscn without a headset: the rig's structure, the dominant hand switch,
## the pose set sent to the server.

const VrScene := preload("res://xr/vr_main.tscn")


func test_rig_structure_and_hand_switch() -> void:
	var vr: PSVrMain = VrScene.instantiate()
	add_child(vr)
	var rig := vr.get_node("Rig") as XROrigin3D
	assert_not_null(rig)
	assert_true(vr.camera is XRCamera3D and vr.camera.get_parent() == rig)
	assert_eq(vr.left_hand.tracker, &"left_hand")
	assert_eq(vr.right_hand.tracker, &"right_hand")
	assert_eq(vr.right_hand.pose, &"aim", "Godot names the aim_pose action's pose 'aim'")
	assert_eq(vr.tool.get_parent(), vr.right_hand)
	assert_eq(vr.canisters.get_parent(), vr.left_hand)
	assert_eq(vr.tool.origin, vr.terrain.origin, "edits in world coordinates")
	assert_eq(vr.tool_input.tool, vr.tool)
	# the rig stands on the planet: its up is away from the centre
	var up := vr.terrain.origin.up_at(rig.global_position)
	assert_almost_eq(rig.global_basis.y.dot(up), 1.0, 1e-4)
	vr.set_dominant_hand(false)
	assert_eq(vr.tool.get_parent(), vr.left_hand)
	assert_eq(vr.tool_input.controller, vr.left_hand)
	assert_eq(vr.canisters.get_parent(), vr.right_hand)
	assert_eq(vr.locomotion.controller, vr.right_hand)
	var poses := vr.pose_set()
	assert_true(poses["body"] is Dictionary and poses["head"] is Dictionary)
	assert_null(poses["left_hand"], "untracked hands are not sent")
	var body: Vector3 = poses["body"]["position"]
	var world := vr.terrain.origin.scene_to_world(rig.global_position)
	assert_almost_eq(body.distance_to(Vector3(world[0], world[1], world[2])), 0.0, 1e-2)
	vr.queue_free()
	await get_tree().process_frame
