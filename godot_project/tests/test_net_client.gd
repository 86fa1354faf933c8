extends PSTestCase
## The network owner node's session state machine (res://net/net_client.gd), driven without
## a socket: outgoing frames go to a Callable, incoming frames are fed to receive_frame().

const P := preload("res://net/protocol.gd")
const GOLDEN_REL := "../tests/server/golden_frames.json"

var _hex: Dictionary = {}
var _sent: Array[PackedByteArray] = []
var _client: PSNetClient
var _events: Array = []


func before_all() -> void:
	var path := OS.get_environment("PS_GOLDEN_FRAMES")
	if path.is_empty():
		path = ProjectSettings.globalize_path("res://").path_join(GOLDEN_REL).simplify_path()
	var doc: Variant = JSON.parse_string(FileAccess.get_file_as_string(path))
	if doc is Dictionary:
		for f: Dictionary in doc["frames"]:
			_hex[f["name"]] = f["hex"]


func before_each() -> void:
	_sent.clear()
	_events.clear()
	_client = PSNetClient.new()
	_client.transport = func(frame: PackedByteArray) -> void: _sent.append(frame)
	_client.auto_reconnect = true
	add_child(_client)
	_client.joined.connect(
		func(pid: int, spawn: PackedFloat64Array, tick: int) -> void:
			_events.append(["joined", pid, spawn, tick])
	)
	_client.chunk_state_received.connect(
		func(c: Vector3i, v: int, p: PackedByteArray, s: int) -> void:
			_events.append(["chunk", c, v, p, s])
	)
	_client.edit_resolved.connect(
		func(seq: int, ok: bool, r: int, _d: int, _t: int, cv: Array) -> void:
			_events.append(["edit", seq, ok, r, cv])
	)
	_client.disconnected.connect(
		func(code: int, reason: String) -> void: _events.append(["disconnected", code, reason])
	)
	_client.frame_rejected.connect(
		func(code: int, _r: String) -> void: _events.append(["rejected", code])
	)
	_client.reconnect_scheduled.connect(
		func(delay: float, n: int) -> void: _events.append(["reconnect", delay, n])
	)


func after_each() -> void:
	_client.auto_reconnect = false
	_client.queue_free()
	await get_tree().process_frame


func _frame(name: String) -> PackedByteArray:
	return (_hex.get(name, "") as String).hex_decode()


func _event(kind: String) -> Array:
	for e: Array in _events:
		if e[0] == kind:
			return e
	return []


func _last_sent() -> Dictionary:
	if _sent.is_empty():
		return {}
	var m: Variant = PSCodec.decode(_sent[-1])
	return m if m != null else {}


func _join() -> void:
	_client.connect_to_server("ws://test.invalid:1")
	_client.receive_frame(_frame("welcome"))
	_client.receive_frame(_frame("join_accepted"))


func test_join_sends_hello_and_join_pipelined_then_follows_the_handshake() -> void:
	_client.connect_to_server("ws://test.invalid:1")
	assert_eq(_client.state, P.SessionState.AWAIT_HELLO)
	assert_eq(_sent.size(), 2, "HELLO and JOIN sent at once")
	assert_eq(_sent[0].hex_encode(), _hex["hello"], "HELLO bytes")
	assert_eq(int(PSCodec.decode(_sent[1])["opcode"]), P.Opcode.JOIN)
	assert_true(_client.receive_frame(_frame("welcome")))
	assert_eq(_client.state, P.SessionState.AWAIT_JOIN)
	assert_eq(_client.max_frame_bytes, 65536)
	assert_true(_client.receive_frame(_frame("join_accepted")))
	assert_eq(_client.state, P.SessionState.JOINED)
	var j := _event("joined")
	assert_eq(j[1], 7, "player id")
	assert_eq(j[2], PackedFloat64Array([967.1369598698366, 0.0, -117.5]), "spawn, float64 exact")
	assert_eq(j[3], 1234, "tick")
	assert_eq(int(_client.join_info["view_radius_chunks"]), 4)


func test_joined_frames_become_typed_signals() -> void:
	_join()
	assert_true(_client.receive_frame(_frame("chunk_state_delta")))
	var c := _event("chunk")
	assert_eq(c[1], Vector3i(60, 0, -8))
	assert_eq(c[2], 2)
	assert_eq((c[3] as PackedByteArray).hex_encode(), "28b52ffd200739000000010005007f02")
	assert_eq(c[4], 7)
	assert_true(_client.receive_frame(_frame("edit_result_rejected")))
	var e := _event("edit")
	assert_eq(e.slice(1, 4), [43, false, P.RejectReason.NOT_ENOUGH_SOIL])


func test_message_not_allowed_in_state_is_answered_with_goodbye_4002() -> void:
	_client.connect_to_server("ws://test.invalid:1")
	assert_false(
		_client.receive_frame(_frame("chunk_state_generated")), "CHUNK_STATE before WELCOME"
	)
	assert_eq(_client.state, P.SessionState.CLOSED)
	var bye := _last_sent()
	assert_eq(int(bye.get("opcode", -1)), P.Opcode.GOODBYE)
	assert_eq(int(bye.get("code", -1)), P.ErrorCode.UNEXPECTED_MESSAGE)
	assert_eq(_event("rejected"), ["rejected", P.ErrorCode.UNEXPECTED_MESSAGE])
	assert_eq(_event("disconnected")[1], P.ErrorCode.UNEXPECTED_MESSAGE)


func test_client_to_server_opcode_from_the_server_is_unexpected() -> void:
	_join()
	assert_false(_client.receive_frame(_frame("edit_request")))
	assert_eq(int(_last_sent().get("code", -1)), P.ErrorCode.UNEXPECTED_MESSAGE)


func test_malformed_frame_is_answered_with_its_code_and_no_crash() -> void:
	_join()
	var bad := _frame("pong")
	bad.append(0)
	assert_false(_client.receive_frame(bad))
	assert_eq(int(_last_sent().get("code", -1)), P.ErrorCode.MALFORMED_MESSAGE)
	assert_eq(_client.state, P.SessionState.CLOSED)
	assert_false(_client.receive_frame(_frame("pong")), "CLOSED ignores frames")


func test_unsupported_welcome_version_says_goodbye_4003_and_does_not_retry() -> void:
	_client.connect_to_server("ws://test.invalid:1")
	var w := PSCodec.decode(_frame("welcome")) as Dictionary
	w["version"] = P.PROTOCOL_VERSION + 1
	assert_false(_client.receive_frame(PSCodec.encode(w)))
	assert_eq(int(_last_sent().get("code", -1)), P.ErrorCode.UNSUPPORTED_VERSION)
	assert_eq(_event("reconnect"), [], "no reconnect after a version mismatch")


func test_lost_session_schedules_a_reconnect_with_backoff() -> void:
	_join()
	assert_true(_client.receive_frame(_frame("goodbye")), "GOODBYE 1001 from the server")
	assert_eq(_event("disconnected")[1], P.ErrorCode.GOING_AWAY)
	var r := _event("reconnect")
	if assert_eq(r.size(), 3, "reconnect scheduled"):
		assert_true(
			float(r[1]) >= 0.25 and float(r[1]) <= 0.5, "first delay in [0.25, 0.5] s: %s" % r[1]
		)


func test_backoff_grows_exponentially_with_a_cap_and_jitter() -> void:
	assert_almost_eq(PSNetClient.backoff_delay(0, 0.5, 30.0, 1.0), 0.5)
	assert_almost_eq(PSNetClient.backoff_delay(3, 0.5, 30.0, 1.0), 4.0)
	assert_almost_eq(PSNetClient.backoff_delay(3, 0.5, 30.0, 0.0), 2.0)
	assert_almost_eq(PSNetClient.backoff_delay(20, 0.5, 30.0, 1.0), 30.0)
	assert_almost_eq(PSNetClient.backoff_delay(1000, 0.5, 30.0, 0.5), 22.5)


func test_sending_is_checked_against_the_session_state() -> void:
	_client.connect_to_server("ws://test.invalid:1")
	var before := _sent.size()
	assert_eq(
		_client.request_edit(0, PackedFloat64Array([0, 0, 0]), 1.0), -1, "no edits before JOINED"
	)
	assert_eq(_sent.size(), before)
	_client.receive_frame(_frame("welcome"))
	_client.receive_frame(_frame("join_accepted"))
	var seq := _client.request_edit(0, PackedFloat64Array([966.5, -0.25, -117.0]), 1.5)
	assert_true(seq >= 0)
	assert_eq(int(_last_sent()["opcode"]), P.Opcode.EDIT_REQUEST)
	assert_eq(int(_last_sent()["seq"]), seq)
	assert_true(_client.subscribe([Vector3i(1, 2, 3)]))
	assert_eq(_last_sent()["coords"], [Vector3i(1, 2, 3)])


func test_pong_sets_round_trip_and_clock_offset() -> void:
	_join()
	var now := Time.get_ticks_usec() / 1.0e6
	var unix := Time.get_unix_time_from_system()
	var pong := {
		"opcode": P.Opcode.PONG,
		"nonce": 1,
		"client_time_s": now - 0.05,
		"server_time_s": unix + 100.0,
		"server_tick": 5000
	}
	assert_true(_client.receive_frame(PSCodec.encode(pong)))
	assert_true(_client.rtt_s >= 0.05 and _client.rtt_s < 1.0, "rtt %s" % _client.rtt_s)
	assert_almost_eq(_client.clock_offset_s, 100.0, 1.0)
	assert_eq(_client.server_tick, 5000)


func test_random_frames_never_crash_the_session() -> void:
	var rng := RandomNumberGenerator.new()
	rng.seed = 7
	var codes := {}
	for i in 300:
		_join()
		var b := PackedByteArray()
		b.resize(rng.randi_range(0, 40))
		for k in b.size():
			b[k] = rng.randi() & 0xFF
		if b.size() > 0 and i % 2 == 0:
			b[0] = rng.randi_range(1, 17)
		var ok := _client.receive_frame(b)
		if not ok:
			var code := int(_last_sent().get("code", -1))
			codes[code] = true
			assert_eq(_client.state, P.SessionState.CLOSED, "closed after %s" % b.hex_encode())
		_client.close()
	for code: int in codes:
		assert_true(code in [4000, 4001, 4002, 4004], "close code %d" % code)
	assert_true(codes.has(4001) and codes.has(4000), "unknown opcodes and truncations seen")
