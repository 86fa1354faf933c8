extends PSTestCase
## Other players' avatars (res://net/avatars.gd): snapshot interpolation 100 ms behind,
## VR head and hands, removal on PLAYER_LEFT.


func _pose_set(x: float, with_hands: bool = false) -> Dictionary:
	var body := PSCodec.pose(Vector3(x, 0.0, 0.0))
	if not with_hands:
		return PSCodec.pose_set(body)
	return PSCodec.pose_set(
		body,
		PSCodec.pose(Vector3(0.0, 1.6, 0.0)),
		PSCodec.pose(Vector3(-0.3, 1.2, -0.4)),
		PSCodec.pose(Vector3(0.3, 1.2, -0.4))
	)


func test_interpolates_between_the_snapshots_around_the_render_time() -> void:
	var snaps := [[1.0, _pose_set(0.0)], [1.05, _pose_set(1.0)], [1.10, _pose_set(3.0)]]
	var at: Dictionary = PSAvatars.sample_snapshots(snaps, 1.075)
	assert_almost_eq((at["body"]["position"] as Vector3).x, 2.0, 1e-5)
	var first: Dictionary = PSAvatars.sample_snapshots(snaps, 0.5)
	assert_almost_eq((first["body"]["position"] as Vector3).x, 0.0)
	var last: Dictionary = PSAvatars.sample_snapshots(snaps, 9.0)
	assert_almost_eq((last["body"]["position"] as Vector3).x, 3.0, 1e-6, "holds the newest")


func test_rotation_is_slerped() -> void:
	var a := PSCodec.pose(Vector3.ZERO, Quaternion.IDENTITY)
	var b := PSCodec.pose(Vector3.ZERO, Quaternion(Vector3.UP, PI / 2.0))
	var mid: Dictionary = PSAvatars.lerp_pose(a, b, 0.5)
	var angle := (mid["rotation"] as Quaternion).get_angle()
	assert_almost_eq(angle, PI / 4.0, 1e-5)


func test_avatar_shows_head_and_hands_of_vr_players_delayed() -> void:
	var avatars := PSAvatars.new()
	add_child(avatars)
	var added: Array = []
	avatars.avatar_added.connect(func(pid: int, _n: PSAvatar) -> void: added.append(pid))
	avatars.push_states([[5, _pose_set(0.0, true)]], 10.0)
	avatars.push_states([[5, _pose_set(2.0, true)]], 10.1)
	assert_eq(added, [5])
	var shown: Dictionary = avatars.sample(5, 10.15)  # 100 ms behind: halfway
	assert_almost_eq((shown["body"]["position"] as Vector3).x, 1.0, 1e-5)
	await get_tree().process_frame
	var node := avatars.get_avatar(5)
	assert_not_null(node)
	node.show_poses(Transform3D.IDENTITY, shown)
	assert_true(node.left_hand.visible and node.right_hand.visible, "VR hands shown")
	assert_almost_eq(node.left_hand.position.x, -0.3, 1e-6)
	node.show_poses(Transform3D.IDENTITY, _pose_set(0.0))
	assert_false(node.left_hand.visible, "desktop players have no hands")
	avatars.remove_player(5)
	assert_eq(avatars.player_ids(), [])
	avatars.queue_free()


func test_snapshots_are_stamped_on_the_server_timeline() -> void:
	var avatars := PSAvatars.new()
	# 20 Hz ticks arriving with jitter: stamps are evenly spaced, after the fastest frame
	var t0 := avatars.stamp(100.00, 2000, 20.0)
	var t1 := avatars.stamp(100.09, 2001, 20.0)  # 40 ms late
	var t2 := avatars.stamp(100.10, 2002, 20.0)  # on time
	assert_almost_eq(t1 - t0, 0.05, 1e-3)
	assert_almost_eq(t2 - t1, 0.05, 1e-3)
	assert_almost_eq(t0, 100.0, 1e-3)
	assert_almost_eq(avatars.stamp(7.5, -1, 20.0), 7.5, 1e-9, "no tick: arrival time")
	avatars.free()
