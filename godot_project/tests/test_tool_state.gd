extends PSTestCase
## PSToolState: radius limits (the server's 0.5 - 4 m), mode cycling, edit requests.


func test_radius_is_clamped_to_server_limits() -> void:
	var s := PSToolState.new()
	assert_almost_eq(s.set_radius(10.0), 4.0)
	assert_almost_eq(s.set_radius(0.1), 0.5)
	assert_almost_eq(s.set_radius(-3.0), 0.5)
	assert_almost_eq(s.set_radius(2.25), 2.25)
	assert_almost_eq(s.set_radius(NAN), PSToolState.RADIUS_DEFAULT_M)


func test_change_radius_integrates_rate_and_stops_at_limits() -> void:
	var s := PSToolState.new()
	s.set_radius(1.0)
	assert_almost_eq(s.change_radius(2.0, 0.25), 1.5)
	assert_almost_eq(s.change_radius(-2.0, 0.5), 0.5)
	for i in 100:
		s.change_radius(2.0, 0.1)
	assert_almost_eq(s.radius_m, 4.0)


func test_mode_cycles_excavate_elevate_flatten() -> void:
	var s := PSToolState.new()
	assert_eq(s.mode, PSToolState.Mode.EXCAVATE)
	assert_eq(s.cycle_mode(), PSToolState.Mode.ELEVATE)
	assert_eq(s.mode_name(), "elevate")
	assert_eq(s.cycle_mode(), PSToolState.Mode.FLATTEN)
	assert_eq(s.cycle_mode(), PSToolState.Mode.EXCAVATE)


func test_mode_ordinals_match_the_protocol() -> void:
	# docs/protocol.md EDIT_REQUEST: 0 EXCAVATE, 1 ELEVATE, 2 FLATTEN
	assert_eq(int(PSToolState.Mode.EXCAVATE), 0)
	assert_eq(int(PSToolState.Mode.ELEVATE), 1)
	assert_eq(int(PSToolState.Mode.FLATTEN), 2)
	assert_eq(PSToolState.mode_from_name("Flatten"), 2)
	assert_eq(PSToolState.mode_from_name("dig"), -1)


func test_changed_signal_only_on_real_changes() -> void:
	var s := PSToolState.new()
	var count := [0]
	s.changed.connect(func() -> void: count[0] += 1)
	s.set_radius(s.radius_m)
	s.set_mode(s.mode)
	assert_eq(count[0], 0)
	s.set_radius(3.0)
	s.cycle_mode()
	assert_eq(count[0], 2)


func test_request_carries_mode_radius_centre_and_fresh_seq() -> void:
	var s := PSToolState.new()
	s.set_radius(2.5)
	s.set_mode(PSToolState.Mode.FLATTEN)
	var centre := PackedFloat64Array([1000000.125, -2.5, 3.0000000001])
	var r := s.build_request(centre)
	assert_eq(r["seq"], 1)
	assert_eq(r["mode"], 2)
	assert_almost_eq(r["radius"], 2.5)
	var c: PackedFloat64Array = r["centre"]
	assert_eq(c, centre, "centre kept as float64")
	centre[0] = 0.0
	assert_almost_eq((r["centre"] as PackedFloat64Array)[0], 1000000.125, 0.0, "copied")
	assert_eq(s.build_request(centre)["seq"], 2)


func test_request_rejects_bad_centres() -> void:
	var s := PSToolState.new()
	assert_true(s.build_request(PackedFloat64Array([1.0, 2.0])).is_empty())
	assert_true(s.build_request(PackedFloat64Array([1.0, NAN, 2.0])).is_empty())
	assert_true(s.build_request(PackedFloat64Array([INF, 0.0, 2.0])).is_empty())
	assert_eq(s.peek_seq(), 1, "no sequence number used")


func test_seq_wraps_within_u32_and_skips_zero() -> void:
	var s := PSToolState.new()
	s.reset_seq(PSToolState.SEQ_MODULUS - 1)
	var c := PackedFloat64Array([0.0, 0.0, 0.0])
	assert_eq(s.build_request(c)["seq"], 4294967295)
	assert_eq(s.build_request(c)["seq"], 1)
