extends PSTestCase
## Protocol v3 in the network owner node (res://net/net_client.gd), without a socket or
## HTTP: the orchestrator's bootstrap (an http:// URL: POST /orch/bootstrap, then HELLO +
## JOIN_WITH_TICKET at the endpoint it names), re-bootstrapping after a lost connection
## and after ERROR 4010 (once), refused bootstraps, and map transfers (TRANSFER_REQUEST,
## TRANSFER_TO -> GOODBYE 1000 and JOIN_WITH_TICKET(token) at the new endpoint, ERROR 4103).

const P := preload("res://net/protocol.gd")
const GOLDEN_REL := "../tests/server/golden_frames.json"
const ORCH := "http://orch.invalid:7777"
const MAP0 := "ws://127.0.0.1:7780"
const TICKET_A := "v1.jt.ticket-a"
const TICKET_B := "v1.jt.ticket-b"
const TOKEN := "v1.tt.eyJ0b01hcElkIjoicGxhbmV0LTEifQ.c2lnbmF0dXJl"

var _hex: Dictionary = {}
var _sent: Array[Dictionary] = []
var _posts: Array = []
var _events: Array = []
var _client: PSNetClient


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
	_posts.clear()
	_events.clear()
	_client = PSNetClient.new()
	_client.transport = func(frame: PackedByteArray) -> void:
		var m: Variant = PSCodec.decode(frame)
		_sent.append(m if m != null else {})
	_client.http_transport = func(url: String, body: String) -> void: _posts.append([url, body])
	_client.backoff_initial_s = 0.05
	add_child(_client)
	_client.disconnected.connect(func(c: int, r: String) -> void: _events.append(["lost", c, r]))
	_client.reconnect_scheduled.connect(
		func(d: float, n: int) -> void: _events.append(["reconnect", d, n])
	)
	_client.gave_up.connect(func(c: int, r: String) -> void: _events.append(["gave_up", c, r]))
	_client.bootstrap_failed.connect(
		func(c: int, r: String) -> void: _events.append(["bootstrap_failed", c, r])
	)
	_client.transfer_started.connect(
		func(m: String, e: String) -> void: _events.append(["transfer", m, e])
	)
	_client.transfer_refused.connect(func(r: String) -> void: _events.append(["refused", r]))
	_client.connection_started.connect(
		func(u: String, n: int) -> void: _events.append(["connecting", u, n])
	)


func after_each() -> void:
	_client.auto_reconnect = false
	_client.close()
	_client.queue_free()
	await get_tree().process_frame


func _frame(name: String) -> PackedByteArray:
	return (_hex.get(name, "") as String).hex_decode()


func _events_of(kind: String) -> Array:
	return _events.filter(func(e: Array) -> bool: return e[0] == kind)


func _ops() -> Array:
	return _sent.map(func(m: Dictionary) -> int: return int(m.get("opcode", -1)))


func _offer(ticket: String, endpoint: String = MAP0) -> String:
	return JSON.stringify(
		{
			"ticket": ticket,
			"mapId": "planet-0",
			"endpoint": endpoint,
			"expiresAtMs": 1764000000000,
			"characterId": null,
			"disposable": true
		}
	)


## Wait (frames) until [param cond] holds, at most [param seconds].
func _until(cond: Callable, seconds: float = 2.0) -> bool:
	var end := Time.get_ticks_msec() + int(seconds * 1000.0)
	while Time.get_ticks_msec() < end:
		if cond.call():
			return true
		await get_tree().process_frame
	return cond.call()


func _bootstrap_and_join(ticket: String = TICKET_A) -> void:
	_client.connect_to_server(ORCH)
	_client.receive_bootstrap(200, _offer(ticket))
	_client.receive_frame(_frame("welcome"))
	_client.receive_frame(_frame("join_accepted"))


func test_http_url_bootstraps_then_joins_with_the_ticket() -> void:
	_client.display_name = "Ada"
	_client.connect_to_server(ORCH + "/")
	if not assert_eq(_posts.size(), 1, "one bootstrap request"):
		return
	assert_eq(_posts[0][0], ORCH + "/orch/bootstrap")
	assert_eq(JSON.parse_string(_posts[0][1]), {"authKey": null}, "disposable: authKey null")
	assert_true(_client.bootstrapping)
	assert_eq(_sent.size(), 0, "no frame before the ticket")
	assert_true(_client.receive_bootstrap(200, _offer(TICKET_A)))
	assert_eq(_client.url, MAP0, "the endpoint of the answer")
	assert_eq(_client.map_id, "planet-0")
	assert_eq(_events_of("connecting"), [["connecting", MAP0, 0]])
	assert_eq(_ops(), [P.Opcode.HELLO, P.Opcode.JOIN_WITH_TICKET], "HELLO + JOIN_WITH_TICKET")
	assert_eq(int(_sent[0]["max_version"]), 3, "offers up to version 3")
	assert_eq(int(_sent[0]["min_version"]), 1, "down to version 1")
	assert_eq(_sent[1]["ticket"], TICKET_A)
	assert_eq(_sent[1]["display_name"], "Ada")
	assert_eq(_client.ticket, "", "the ticket is used once")
	assert_true(_client.receive_frame(_frame("welcome")))
	assert_eq(_client.version, 3)
	assert_true(_client.receive_frame(_frame("join_accepted")))
	assert_true(_client.is_joined())


func test_bootstrap_sends_the_auth_key() -> void:
	_client.auth_key = "my secret"
	_client.connect_to_server(ORCH)
	assert_eq(JSON.parse_string(_posts[0][1]), {"authKey": "my secret"})


func test_ws_url_joins_directly_with_join() -> void:
	_client.connect_to_server("ws://127.0.0.1:7777")
	assert_eq(_posts.size(), 0, "no bootstrap for ws://")
	assert_eq(_ops(), [P.Opcode.HELLO, P.Opcode.JOIN])


func test_a_lost_connection_bootstraps_again() -> void:
	_bootstrap_and_join()
	assert_true(_client.receive_frame(_frame("goodbye")), "GOODBYE 1001")
	assert_eq(_events_of("lost")[0][1], P.ErrorCode.GOING_AWAY)
	assert_eq(_events_of("reconnect").size(), 1, "reconnect scheduled")
	assert_true(await _until(func() -> bool: return _posts.size() == 2), "a second bootstrap")
	_sent.clear()
	_client.receive_bootstrap(200, _offer(TICKET_B, "ws://127.0.0.1:7790"))
	assert_eq(_ops(), [P.Opcode.HELLO, P.Opcode.JOIN_WITH_TICKET])
	assert_eq(_sent[1]["ticket"], TICKET_B, "a fresh ticket, never the used one")
	assert_eq(_client.url, "ws://127.0.0.1:7790")


func test_ticket_denied_bootstraps_once_more_then_gives_up() -> void:
	_client.connect_to_server(ORCH)
	_client.receive_bootstrap(200, _offer(TICKET_A))
	_client.receive_frame(_frame("welcome"))
	assert_true(_client.receive_frame(_frame("error_ticket_denied")))
	assert_eq(_events_of("lost")[0][1], P.ErrorCode.TICKET_DENIED)
	assert_eq(_events_of("reconnect")[0][1], 0.0, "the one retry comes at once")
	assert_true(await _until(func() -> bool: return _posts.size() == 2), "re-bootstrapped")
	_client.receive_bootstrap(200, _offer(TICKET_B))
	_client.receive_frame(_frame("welcome"))
	assert_true(_client.receive_frame(_frame("error_ticket_denied")))
	var g := _events_of("gave_up")
	if assert_eq(g.size(), 1, "gave up after the second denial"):
		assert_eq(g[0][1], P.ErrorCode.TICKET_DENIED)
		assert_true(str(g[0][2]).begins_with("EXPIRED:"), "the reason: %s" % g[0][2])
	assert_true(_client.last_error.begins_with("EXPIRED:"))
	for i in 5:
		await get_tree().process_frame
	assert_eq(_posts.size(), 2, "no third bootstrap")


func test_a_successful_join_rearms_the_ticket_retry() -> void:
	_bootstrap_and_join()
	_client.receive_frame(_frame("goodbye"))
	assert_true(await _until(func() -> bool: return _posts.size() == 2))
	_client.receive_bootstrap(200, _offer(TICKET_B))
	_client.receive_frame(_frame("welcome"))
	_client.receive_frame(_frame("error_ticket_denied"))
	assert_eq(_events_of("gave_up"), [], "first denial since the join: retried")
	assert_true(await _until(func() -> bool: return _posts.size() == 3))


func test_ticket_denied_on_a_direct_server_stops_after_one_retry() -> void:
	_client.connect_to_server("ws://127.0.0.1:7777")
	_client.receive_frame(_frame("welcome"))
	_client.receive_frame(_frame("error_ticket_denied"))
	assert_eq(_events_of("gave_up"), [])
	assert_true(
		await _until(func() -> bool: return _client.state == P.SessionState.AWAIT_HELLO),
		"retried once"
	)
	_client.receive_frame(_frame("welcome"))
	_client.receive_frame(_frame("error_ticket_denied"))
	assert_eq(_events_of("gave_up").size(), 1)


func test_bootstrap_503_is_retried_after_retry_after() -> void:
	_client.connect_to_server(ORCH)
	var body := JSON.stringify(
		{
			"error": "map_unavailable",
			"reason": "planet-0 is starting",
			"mapId": "planet-0",
			"retryAfterMs": 1500
		}
	)
	assert_false(_client.receive_bootstrap(503, body))
	assert_eq(_events_of("bootstrap_failed"), [["bootstrap_failed", 503, "planet-0 is starting"]])
	var r := _events_of("reconnect")
	if assert_eq(r.size(), 1, "retried"):
		assert_true(float(r[0][1]) >= 1.5, "waits retryAfterMs: %s" % r[0][1])
	assert_eq(_events_of("gave_up"), [])
	assert_true(str(_events_of("lost")[0][2]).contains("planet-0 is starting"))


func test_bootstrap_4xx_gives_up_with_the_reason() -> void:
	_client.connect_to_server(ORCH)
	var body := JSON.stringify({"error": "forbidden", "reason": "BANNED: go away"})
	assert_false(_client.receive_bootstrap(403, body))
	var g := _events_of("gave_up")
	if assert_eq(g.size(), 1, "gave up"):
		assert_true(str(g[0][2]).contains("BANNED: go away"), str(g[0][2]))
		assert_true(str(g[0][2]).contains("403"), str(g[0][2]))
	assert_eq(_events_of("reconnect"), [])


func test_bootstrap_answer_without_a_ticket_is_an_error() -> void:
	_client.connect_to_server(ORCH)
	assert_false(_client.receive_bootstrap(200, JSON.stringify({"endpoint": MAP0})))
	assert_false(_client.receive_bootstrap(200, _offer(TICKET_A)), "stale answer ignored")
	assert_eq(_sent.size(), 0)


func test_transfer_request_and_transfer_to() -> void:
	_bootstrap_and_join()
	assert_true(_client.request_transfer("planet-1"))
	assert_eq(_sent[-1], {"opcode": P.Opcode.TRANSFER_REQUEST, "to_map_id": "planet-1"})
	assert_false(_client.request_transfer("Planet 1"), "not a map id")
	_sent.clear()
	assert_true(_client.receive_frame(_frame("transfer_to")))
	assert_eq(_events_of("transfer"), [["transfer", "planet-1", "ws://127.0.0.1:7781"]])
	assert_eq(_ops(), [P.Opcode.GOODBYE])
	assert_eq(int(_sent[0]["code"]), P.ErrorCode.NORMAL, "GOODBYE 1000")
	assert_eq(_events_of("lost")[0][1], P.ErrorCode.NORMAL)
	assert_eq(_client.state, P.SessionState.CLOSED)
	assert_true(
		await _until(func() -> bool: return _sent.size() == 3), "the new map at once: %s" % [_ops()]
	)
	assert_eq(_ops(), [P.Opcode.GOODBYE, P.Opcode.HELLO, P.Opcode.JOIN_WITH_TICKET])
	assert_eq(_sent[2]["ticket"], TOKEN, "the transfer token")
	assert_eq(_client.url, "ws://127.0.0.1:7781")
	assert_eq(_client.map_id, "planet-1")
	assert_eq(_posts.size(), 1, "no bootstrap for a transfer")
	assert_true(_client.receive_frame(_frame("welcome")))
	assert_true(_client.receive_frame(_frame("join_accepted")))
	assert_true(_client.is_joined())


func test_a_failed_transfer_connection_bootstraps_again() -> void:
	_bootstrap_and_join()
	_client.receive_frame(_frame("transfer_to"))
	assert_true(await _until(func() -> bool: return _events_of("connecting").size() == 2))
	_client.receive_frame(_frame("goodbye"))  # the new map goes away before JOIN_ACCEPTED
	assert_true(await _until(func() -> bool: return _posts.size() == 2), "re-bootstrapped")


func test_transfer_refused_is_a_notice() -> void:
	_bootstrap_and_join()
	assert_true(_client.request_transfer("planet-1"))
	assert_true(_client.receive_frame(_frame("error_transfer_refused")))
	assert_eq(_events_of("refused"), [["refused", "QUARANTINED: planet-1 (retry after 52000 ms)"]])
	assert_true(_client.is_joined(), "the session goes on")


func test_v2_session_cannot_transfer() -> void:
	_client.connect_to_server("ws://127.0.0.1:7777")
	var w := PSCodec.decode(_frame("welcome")) as Dictionary
	w["version"] = 2
	_client.receive_frame(PSCodec.encode(w))
	_client.receive_frame(_frame("join_accepted"))
	assert_false(_client.request_transfer("planet-1"), "TRANSFER_REQUEST needs version 3")
	assert_false(_client.receive_frame(_frame("transfer_to")), "TRANSFER_TO in a v2 session")
	assert_eq(int(_sent[-1].get("code", -1)), P.ErrorCode.UNEXPECTED_MESSAGE)


func test_ticket_join_needs_a_version_3_welcome() -> void:
	_client.connect_to_server(ORCH)
	_client.receive_bootstrap(200, _offer(TICKET_A))
	var w := PSCodec.decode(_frame("welcome")) as Dictionary
	w["version"] = 2
	assert_false(_client.receive_frame(PSCodec.encode(w)))
	assert_eq(int(_sent[-1].get("code", -1)), P.ErrorCode.UNSUPPORTED_VERSION)
	assert_eq(_events_of("gave_up").size(), 1, "no retry")
