class_name PSNetClient
extends Node
## The one network owner node: holds the [WebSocketPeer], polls it, runs the client side of
## the session (docs/protocol.md 2.2: AWAIT_HELLO -> AWAIT_JOIN -> JOINED -> CLOSED), turns
## frames into typed past-tense signals and sends every frame through [method send_frame].
##
## Joining: on open it sends HELLO and JOIN at once (pipelined), then waits for WELCOME
## (version check: outside [PSProtocol.MIN_PROTOCOL_VERSION, PSProtocol.PROTOCOL_VERSION]
## -> GOODBYE 4003) and JOIN_ACCEPTED. A malformed frame, an opcode not allowed in the
## current state or a text frame is answered with GOODBYE <code> and a close with the same
## code (4000 / 4001 / 4002 / 4004 / 1003), never with a crash; [signal frame_rejected]
## reports it. After a lost connection it reconnects with exponential backoff and jitter
## ([method backoff_delay]) unless [method close] was called or the server refused the
## protocol version. Pings every [member ping_interval_s] give the round trip time and the
## offset of the server's clock.
##
## Two ways in (docs/protocol.md, protocol version 3):
## * Direct ([code]ws://[/code] / [code]wss://[/code] URL, a [code]serve --single[/code]
##   server): HELLO + JOIN(auth key).
## * Through the orchestrator ([code]http://[/code] / [code]https://[/code] URL):
##   [code]POST {url}/orch/bootstrap[/code] with [code]{"authKey": key or null}[/code]
##   answers a one-time ticket and the map process's WebSocket [code]endpoint[/code]; the
##   client opens that and sends HELLO + JOIN_WITH_TICKET(ticket). A non-200 answer is
##   reported with its JSON [code]reason[/code] ([signal bootstrap_failed]); 5xx and
##   network errors are retried with backoff (at least the answer's
##   [code]retryAfterMs[/code]), other statuses stop the client ([signal gave_up]). Every
##   reconnect bootstraps again (tickets are one-time).
## ERROR 4010 TICKET_DENIED: one more attempt (a new bootstrap, or a plain JOIN to the
## direct URL), then the client stops and reports the reason ([signal gave_up],
## [member last_error]).
##
## Transfers: [method request_transfer] sends TRANSFER_REQUEST; the server answers
## TRANSFER_TO (or the notice ERROR 4103 TRANSFER_REFUSED, [signal transfer_refused]). On
## TRANSFER_TO the client says GOODBYE 1000, closes, and at once opens the TRANSFER_TO's
## endpoint with HELLO + JOIN_WITH_TICKET(token) ([signal transfer_started], then
## [signal disconnected] with code 1000, then the usual handshake and [signal joined]).
##
## Tests drive the state machine without a socket: set [member transport] to a Callable
## that takes each outgoing frame, then feed frames to [method receive_frame]; set
## [member http_transport] to take the bootstrap request and answer it with
## [method receive_bootstrap].

## The socket is being opened (attempt number from 0).
signal connection_started(url: String, attempt: int)
## WELCOME arrived: the session speaks [param version].
signal welcomed(version: int, tick_rate_hz: int, max_frame_bytes: int, server_name: String)
## JOIN_ACCEPTED arrived: [param spawn] is the world position (metres, float64 [x, y, z]);
## the whole message is in [member join_info].
signal joined(player_id: int, spawn: PackedFloat64Array, tick: int)
## A CHUNK_STATE arrived ([param payload] empty for encoding GENERATED).
signal chunk_state_received(
	coord: Vector3i, version: int, payload: PackedByteArray, uncompressed_size: int
)
## A TERRAIN_DELTA arrived: [param chunks] are
## {coord, version, payload (or null), uncompressed_size}.
signal terrain_delta_received(tick: int, chunks: Array)
## EDIT_RESULT for edit [param seq]; [param chunk_versions] = [[Vector3i, version], ...].
signal edit_resolved(
	seq: int, accepted: bool, reason: int, soil_delta: int, soil_total: int, chunk_versions: Array
)
## PLAYER_STATES: [param players] = [[player_id, pose set], ...] (see [PSCodec]).
signal player_states_received(tick: int, players: Array)
signal player_left(player_id: int, reason: int)
## PONG: round trip time, and server Unix time minus local Unix time, seconds.
signal pong_received(rtt_s: float, clock_offset_s: float)
## An ERROR frame (fatal codes < 4100 end the session; the server closes).
signal error_received(code: int, context: int, reason: String)
## The server sent something this client rejected (we said GOODBYE [param code] and closed).
signal frame_rejected(code: int, reason: String)
## The session ended ([param code]: WebSocket close code, or the GOODBYE / ERROR code).
signal disconnected(code: int, reason: String)
## The next connection attempt starts in [param delay_s].
signal reconnect_scheduled(delay_s: float, attempt: int)
## POST [param url] (the orchestrator's bootstrap) was sent.
signal bootstrap_started(url: String, attempt: int)
## The bootstrap answered a ticket for map [param map_id] at [param endpoint].
signal bootstrapped(map_id: String, endpoint: String)
## The bootstrap failed: HTTP [param status] (0: no answer) and the answer's reason.
signal bootstrap_failed(status: int, reason: String)
## TRANSFER_TO arrived: the client leaves for [param to_map_id] at [param endpoint].
signal transfer_started(to_map_id: String, endpoint: String)
## The server refused a TRANSFER_REQUEST (ERROR 4103; the session goes on).
signal transfer_refused(reason: String)
## The client stopped trying (ticket denied twice, bootstrap refused, version mismatch).
signal gave_up(code: int, reason: String)
signal state_changed(state: int)

const P := preload("res://net/protocol.gd")
const OP := P.Opcode
const U32_MASK := 0xFFFFFFFF
## Close codes after which reconnecting cannot help.
const NO_RETRY_CODES: Array[int] = [P.ErrorCode.UNSUPPORTED_VERSION]
## Close code reported when the connection (or the bootstrap) failed without a close frame.
const ABNORMAL_CLOSE := 1006
const BOOTSTRAP_PATH := "/orch/bootstrap"

@export var client_name := "godot-client"
@export var display_name := ""
## Empty: a disposable session; otherwise the persistent character's key.
@export var auth_key := ""
@export var auto_reconnect := true
@export_range(0.05, 60.0, 0.05, "suffix:s") var backoff_initial_s := 0.5
@export_range(0.5, 600.0, 0.5, "suffix:s") var backoff_max_s := 30.0
@export_range(0.1, 60.0, 0.1, "suffix:s") var ping_interval_s := 2.0
@export_range(1.0, 60.0, 0.5, "suffix:s") var connect_timeout_s := 10.0
## Timeout of the orchestrator's bootstrap request.
@export_range(1.0, 60.0, 0.5, "suffix:s") var bootstrap_timeout_s := 10.0
## Largest PLAYER_TRANSFORM rate.
@export_range(1.0, 20.0, 1.0, "suffix:Hz") var transform_rate_hz := 20.0

## Outgoing frames go here instead of the socket when valid (tests).
var transport: Callable
## The bootstrap request goes here instead of HTTP when valid (tests):
## [code]http_transport.call(url, json_body)[/code]; answer with [method receive_bootstrap].
var http_transport: Callable
## The WebSocket URL of the current (or next) connection.
var url := ""
## The orchestrator's base URL (http:// or https://) in bootstrap mode, else "".
var bootstrap_url := ""
## The ws:// URL given to [method connect_to_server] in direct mode.
var direct_url := ""
## The ticket (or transfer token) the next connection joins with; one-time, cleared when
## sent and after a lost connection.
var ticket := ""
## The map this client is on or going to (bootstrap mapId / TRANSFER_TO), "" if unknown.
var map_id := ""
## True while the bootstrap request is in flight.
var bootstrapping := false
## The last bootstrap answer (ticket, mapId, endpoint, expiresAtMs, characterId, ...).
var bootstrap_info: Dictionary = {}
## The last TRANSFER_TO (to_map_id, endpoint, token, expires_in_ms), {} before any.
var transfer_info: Dictionary = {}
## Why the client stopped trying ([signal gave_up]), "" while it goes on.
var last_error := ""
## Protocol version of the session (from WELCOME), 0 before.
var version := 0
var state: int = P.SessionState.CLOSED
## JOIN_ACCEPTED fields (see [PSCodec]); empty before joining.
var join_info: Dictionary = {}
var welcome_info: Dictionary = {}
var player_id := -1
## Newest server tick heard of (JOIN_ACCEPTED, TERRAIN_DELTA, PLAYER_STATES, PONG).
var server_tick := -1
var rtt_s := -1.0
## Server Unix time minus local Unix time (from the ping with the smallest round trip).
var clock_offset_s := 0.0
## Largest frame the server accepts (from WELCOME).
var max_frame_bytes := 65536
## Reconnect attempts since the last successful join.
var attempt := 0
var frames_in := 0
var frames_out := 0
var bytes_in := 0
var bytes_out := 0

var _peer: WebSocketPeer
var _want := false
var _greeted := false
var _closed_reported := true
var _close_code := 0
var _close_reason := ""
var _open_since_s := 0.0
var _reconnect_at_s := -1.0
var _next_seq := 1
var _next_nonce := 1
var _last_ping_s := -1e9
var _best_rtt_s := INF
var _pending_transform: Variant = null
var _last_transform_s := -1e9
var _rng := RandomNumberGenerator.new()
var _frame_ok := true
var _http: HTTPRequest
## This connection joined (or tries to join) with JOIN_WITH_TICKET.
var _ticket_join := false
## A TRANSFER_TO hand-off is under way: reconnect at once, keep the token.
var _handoff := false
## The one extra attempt after ERROR 4010 was used (reset by JOIN_ACCEPTED).
var _ticket_retry_used := false
## The next reconnect waits at least this long (a bootstrap's retryAfterMs).
var _min_delay_s := 0.0


func _ready() -> void:
	_rng.randomize()


func _exit_tree() -> void:
	if state != P.SessionState.CLOSED:
		close(P.ErrorCode.GOING_AWAY, "client leaving")


func _process(_delta: float) -> void:
	poll()


## Connect to [param server_url] and join; reconnects until [method close]. ws:// or
## wss://: the game server directly (JOIN); http:// or https://: the orchestrator
## (bootstrap, then JOIN_WITH_TICKET at the endpoint it names).
func connect_to_server(server_url: String) -> void:
	_want = true
	attempt = 0
	last_error = ""
	ticket = ""
	map_id = ""
	_ticket_retry_used = false
	_handoff = false
	if is_bootstrap_url(server_url):
		bootstrap_url = server_url.trim_suffix("/")
		direct_url = ""
		url = ""
	else:
		bootstrap_url = ""
		direct_url = server_url
		url = server_url
	_open()


## True for an orchestrator URL (http:// or https://).
static func is_bootstrap_url(server_url: String) -> bool:
	return server_url.begins_with("http://") or server_url.begins_with("https://")


## Leave: GOODBYE [param code] and close the socket; no reconnect.
func close(code: int = P.ErrorCode.NORMAL, reason: String = "client leaving") -> void:
	_want = false
	_handoff = false
	_reconnect_at_s = -1.0
	_cancel_bootstrap()
	if state != P.SessionState.CLOSED:
		send(PSCodec.goodbye(code, reason))
	_end(code, reason)


func is_joined() -> bool:
	return state == P.SessionState.JOINED


## Send one message (a [PSCodec] Dictionary). False if it cannot be encoded or sent.
func send(message: Dictionary) -> bool:
	var err := {}
	var frame := PSCodec.encode(message, err)
	if frame.is_empty():
		push_error("PSNetClient: cannot encode %s" % err.get("reason", ""))
		return false
	return send_frame(frame)


## The single function that writes to the network: checks that the client may send this
## opcode in the current state (a local protocol error otherwise) and the server's frame
## size limit, then writes one binary WebSocket message.
func send_frame(frame: PackedByteArray) -> bool:
	var why := _cannot_send(frame)
	if not why.is_empty():
		push_warning("PSNetClient: " + why)
		return false
	if transport.is_valid():
		transport.call(frame)
	elif _peer != null and _peer.get_ready_state() == WebSocketPeer.STATE_OPEN:
		if _peer.send(frame, WebSocketPeer.WRITE_MODE_BINARY) != OK:
			return false
	else:
		return false
	frames_out += 1
	bytes_out += frame.size()
	return true


## Why [param frame] may not be sent now ("" if it may): its opcode in this state, its
## protocol version, the server's frame size limit.
func _cannot_send(frame: PackedByteArray) -> String:
	if frame.size() < P.HEADER_SIZE:
		return "frame shorter than the header"
	var op: int = frame[0]
	if not P.client_may_send(state, op):
		return "%s not allowed in state %s" % [P.opcode_name(op), P.SessionState.find_key(state)]
	if version > 0 and version < P.min_version_of(op):
		return "%s needs protocol version 3 (session: %d)" % [P.opcode_name(op), version]
	if frame.size() > max_frame_bytes:
		return "%d-byte frame exceeds the server's %d" % [frame.size(), max_frame_bytes]
	return ""


## Ask for chunks (in frames of at most 1024).
func subscribe(coords: Array, unsubscribe_them: bool = false) -> bool:
	var ok := true
	for i in range(0, coords.size(), P.MAX_COORDS_PER_MESSAGE):
		ok = (
			send(PSCodec.subscribe(coords.slice(i, i + P.MAX_COORDS_PER_MESSAGE), unsubscribe_them))
			and ok
		)
	return ok


func unsubscribe(coords: Array) -> bool:
	return subscribe(coords, true)


## Send EDIT_REQUEST; returns its seq, or -1 if it could not be sent.
func request_edit(mode: int, centre: PackedFloat64Array, radius: float) -> int:
	var seq := _next_seq
	_next_seq = (_next_seq + 1) & U32_MASK
	if not send(PSCodec.edit_request(seq, mode, centre, radius)):
		return -1
	return seq


## The seq the next [method request_edit] will use.
func peek_seq() -> int:
	return _next_seq


## Queue the player's pose set (see [method PSCodec.pose_set]); sent at most
## [member transform_rate_hz] times per second, newest first.
func set_transform(poses: Dictionary) -> void:
	_pending_transform = poses
	_flush_transform(_now())


## Ask to move to map [param to_map_id] ("planet-1"): TRANSFER_REQUEST. False when not
## joined, the session speaks protocol < 3 or the id is not a map id.
func request_transfer(to_map_id: String) -> bool:
	if not is_joined():
		return false
	if version < P.TICKET_PROTOCOL_VERSION:
		push_warning("PSNetClient: transfers need protocol version 3 (session: %d)" % version)
		return false
	if not P.is_map_id(to_map_id):
		push_warning("PSNetClient: '%s' is not a map id" % to_map_id)
		return false
	return send(PSCodec.transfer_request(to_map_id))


func ping() -> bool:
	var nonce := _next_nonce
	_next_nonce = (_next_nonce + 1) & U32_MASK
	_last_ping_s = _now()
	return send(PSCodec.ping(nonce, _last_ping_s))


## Exponential backoff with jitter: [param initial] * 2^[param n], capped at
## [param maximum], then scaled into [0.5, 1.0] of that by [param u] in [0, 1].
static func backoff_delay(n: int, initial: float, maximum: float, u: float) -> float:
	var base := minf(maximum, initial * pow(2.0, mini(n, 30)))
	return base * (0.5 + 0.5 * clampf(u, 0.0, 1.0))


## Poll the socket: open / receive / close, timers. Called every frame.
func poll() -> void:
	var now := _now()
	if _peer != null:
		_peer.poll()
		var st := _peer.get_ready_state()
		if st == WebSocketPeer.STATE_OPEN:
			if not _greeted:
				_greet()
			while _peer != null and _peer.get_available_packet_count() > 0:
				var pkt := _peer.get_packet()
				if _peer.was_string_packet():
					_protocol_error(
						P.ErrorCode.UNSUPPORTED_DATA, "text frames are not protocol frames"
					)
				else:
					receive_frame(pkt)
		elif st == WebSocketPeer.STATE_CONNECTING and now - _open_since_s > connect_timeout_s:
			_peer.close()
			_end(P.ErrorCode.GOING_AWAY, "connect timeout")
		elif st == WebSocketPeer.STATE_CLOSED:
			var code := _peer.get_close_code()
			var reason := _peer.get_close_reason()
			if _close_code != 0:  # the session already ended with a protocol code
				code = _close_code
				reason = _close_reason
			_end(
				code if code > 0 else ABNORMAL_CLOSE, reason if reason != "" else "connection lost"
			)
	if state == P.SessionState.JOINED or state == P.SessionState.AWAIT_JOIN:
		if now - _last_ping_s >= ping_interval_s:
			ping()
		_flush_transform(now)
	if _reconnect_at_s >= 0.0 and now >= _reconnect_at_s and _want:
		_reconnect_at_s = -1.0
		_open()


## Handle one binary frame from the server. Returns false if it was rejected (then the
## session is closed with the matching code).
func receive_frame(frame: PackedByteArray) -> bool:
	if state == P.SessionState.CLOSED:
		return false  # CLOSED receives nothing (ignored)
	frames_in += 1
	bytes_in += frame.size()
	var err := {}
	var m: Variant = PSCodec.decode(frame, err)
	if m == null:
		_protocol_error(int(err["code"]), str(err["reason"]))
		return false
	var msg: Dictionary = m
	var op: int = msg["opcode"]
	if not P.client_may_receive(state, op):
		_protocol_error(
			P.ErrorCode.UNEXPECTED_MESSAGE,
			"%s not allowed in state %s" % [P.opcode_name(op), P.SessionState.find_key(state)]
		)
		return false
	_frame_ok = true
	_dispatch(op, msg)
	return _frame_ok


func _dispatch(op: int, m: Dictionary) -> void:
	match op:
		OP.WELCOME:
			var v: int = m["version"]
			if v < P.MIN_PROTOCOL_VERSION or v > P.PROTOCOL_VERSION:
				_protocol_error(
					P.ErrorCode.UNSUPPORTED_VERSION,
					(
						"client speaks versions %d..%d, server chose %d"
						% [P.MIN_PROTOCOL_VERSION, P.PROTOCOL_VERSION, v]
					)
				)
				return
			if _ticket_join and v < P.TICKET_PROTOCOL_VERSION:
				_protocol_error(
					P.ErrorCode.UNSUPPORTED_VERSION,
					"JOIN_WITH_TICKET needs protocol version 3, the server chose %d" % v
				)
				return
			version = v
			welcome_info = m
			max_frame_bytes = maxi(int(m["max_frame_bytes"]), P.HEADER_SIZE)
			_set_state(P.SessionState.AWAIT_JOIN)
			welcomed.emit(v, m["tick_rate_hz"], m["max_frame_bytes"], m["server_name"])
		OP.JOIN_ACCEPTED:
			join_info = m
			player_id = m["player_id"]
			server_tick = m["server_tick"]
			attempt = 0
			_ticket_retry_used = false
			_set_state(P.SessionState.JOINED)
			joined.emit(player_id, m["position"], server_tick)
		OP.CHUNK_STATE:
			var c: Dictionary = m["chunk"]
			var payload: PackedByteArray = (
				c["payload"] if c["payload"] != null else PackedByteArray()
			)
			chunk_state_received.emit(c["coord"], c["version"], payload, c["uncompressed_size"])
		OP.TERRAIN_DELTA:
			server_tick = maxi(server_tick, m["tick"])
			terrain_delta_received.emit(m["tick"], m["chunks"])
		OP.EDIT_RESULT:
			edit_resolved.emit(
				m["seq"],
				m["accepted"],
				m["reason"],
				m["soil_delta"],
				m["soil_total"],
				m["chunk_versions"]
			)
		OP.PLAYER_STATES:
			server_tick = maxi(server_tick, m["tick"])
			player_states_received.emit(m["tick"], m["players"])
		OP.PLAYER_LEFT:
			player_left.emit(m["player_id"], m["reason"])
		OP.PONG:
			_on_pong(m)
		OP.ERROR:
			var code: int = m["code"]
			error_received.emit(code, m["context"], m["reason"])
			if code == P.ErrorCode.TRANSFER_REFUSED:
				transfer_refused.emit(m["reason"])
			if P.is_fatal(code):
				_close_code = code
				_close_reason = m["reason"]
				_set_state(P.SessionState.CLOSED)
				if transport.is_valid():  # no socket to report the server's close
					_end(_close_code, _close_reason)
		OP.GOODBYE:
			_close_code = m["code"]
			_close_reason = m["reason"]
			_set_state(P.SessionState.CLOSED)
			if transport.is_valid():
				_end(_close_code, _close_reason)
		OP.TRANSFER_TO:
			_on_transfer_to(m)


func _on_pong(m: Dictionary) -> void:
	var now := _now()
	var rtt: float = now - float(m["client_time_s"])
	if rtt < 0.0 or rtt > 60.0:
		return  # not one of our clocks (nonce reuse after a restart)
	rtt_s = rtt
	server_tick = maxi(server_tick, m["server_tick"])
	var offset: float = float(m["server_time_s"]) + rtt / 2.0 - Time.get_unix_time_from_system()
	if rtt <= _best_rtt_s * 1.5 or _best_rtt_s == INF:
		_best_rtt_s = minf(_best_rtt_s, rtt)
		clock_offset_s = offset
	pong_received.emit(rtt, clock_offset_s)


## TRANSFER_TO: GOODBYE 1000, close, and join its endpoint with its token at once.
func _on_transfer_to(m: Dictionary) -> void:
	if version < P.TICKET_PROTOCOL_VERSION:
		_protocol_error(
			P.ErrorCode.UNEXPECTED_MESSAGE,
			"TRANSFER_TO needs protocol version 3 (session: %d)" % version
		)
		return
	var endpoint: String = m["endpoint"]
	if endpoint.is_empty():
		endpoint = url  # the same process serves the new map
	if not (endpoint.begins_with("ws://") or endpoint.begins_with("wss://")):
		_protocol_error(
			P.ErrorCode.INVALID_VALUE, "TRANSFER_TO endpoint '%s' is not a ws:// URL" % endpoint
		)
		return
	transfer_info = m
	map_id = m["to_map_id"]
	var reason := "transferring to %s" % map_id
	transfer_started.emit(map_id, endpoint)
	send(PSCodec.goodbye(P.ErrorCode.NORMAL, reason))
	_close_code = P.ErrorCode.NORMAL
	_close_reason = reason
	_set_state(P.SessionState.CLOSED)
	ticket = m["token"]
	url = endpoint
	_handoff = true
	_end(P.ErrorCode.NORMAL, reason)


## Answer a bad frame from the server: GOODBYE code + close, no crash.
func _protocol_error(code: int, reason: String) -> void:
	push_warning("PSNetClient: rejected a frame from the server (%d): %s" % [code, reason])
	_frame_ok = false
	frame_rejected.emit(code, reason)
	if state != P.SessionState.CLOSED:
		send(PSCodec.goodbye(code, reason.left(P.MAX_REASON_BYTES)))
	_close_code = code
	_close_reason = reason
	_set_state(P.SessionState.CLOSED)
	if _peer != null:
		_peer.close(code, reason.left(120))
	else:
		_end(code, reason)


func _open() -> void:
	_close_code = 0
	_close_reason = ""
	_greeted = false
	_closed_reported = false
	_best_rtt_s = INF
	_ticket_join = false
	version = 0
	welcome_info = {}
	join_info = {}
	if ticket.is_empty():
		if not bootstrap_url.is_empty():
			_bootstrap()
			return
		url = direct_url
	connection_started.emit(url, attempt)
	_set_state(P.SessionState.AWAIT_HELLO)
	if transport.is_valid():
		_greet()
		return
	if _peer != null:
		_peer.close()  # a previous socket still open (connect_to_server called twice)
	_peer = WebSocketPeer.new()
	_peer.inbound_buffer_size = P.MAX_SERVER_FRAME_BYTES
	_peer.outbound_buffer_size = 1 << 20
	_peer.max_queued_packets = 8192
	_open_since_s = _now()
	var err := _peer.connect_to_url(url)
	if err != OK:
		_peer = null
		_end(1006, "cannot connect: %s" % error_string(err))


## HELLO, then JOIN_WITH_TICKET (consuming [member ticket]) or JOIN, pipelined.
func _greet() -> void:
	_greeted = true
	send(PSCodec.hello(client_name))
	if ticket.is_empty():
		send(PSCodec.join(auth_key, display_name))
	else:
		_ticket_join = true
		send(PSCodec.join_with_ticket(ticket, display_name))
		ticket = ""


## POST {bootstrap_url}/orch/bootstrap {"authKey": key or null}.
func _bootstrap() -> void:
	_set_state(P.SessionState.CLOSED)
	if _peer != null:
		_peer.close()  # a previous socket still open (connect_to_server called twice)
		_peer = null
	bootstrapping = true
	var target := bootstrap_url + BOOTSTRAP_PATH
	var body := JSON.stringify({"authKey": auth_key if not auth_key.is_empty() else null})
	bootstrap_started.emit(target, attempt)
	if http_transport.is_valid():
		http_transport.call(target, body)
		return
	if _http == null:
		_http = HTTPRequest.new()
		_http.name = "Bootstrap"
		_http.use_threads = false
		add_child(_http)
		_http.request_completed.connect(_on_http_completed)
	_http.timeout = bootstrap_timeout_s
	_http.cancel_request()
	var err := _http.request(
		target, PackedStringArray(["Content-Type: application/json"]), HTTPClient.METHOD_POST, body
	)
	if err != OK:
		_bootstrap_error(0, "cannot send the bootstrap request: %s" % error_string(err))


func _on_http_completed(
	result: int, status: int, headers: PackedStringArray, body: PackedByteArray
) -> void:
	if not bootstrapping:
		return
	if result != HTTPRequest.RESULT_SUCCESS:
		_bootstrap_error(0, "no answer from %s (%s)" % [bootstrap_url, _http_result_text(result)])
		return
	receive_bootstrap(status, body.get_string_from_utf8(), headers)


## The orchestrator's answer to the bootstrap request: HTTP [param status] and its JSON
## [param body]. 200: open the endpoint with the ticket; otherwise report the reason and
## retry (5xx) or stop (other statuses). Returns true for a usable ticket.
func receive_bootstrap(
	status: int, body: String, headers: PackedStringArray = PackedStringArray()
) -> bool:
	if not bootstrapping:
		return false
	var doc: Variant = JSON.parse_string(body) if not body.is_empty() else null
	var d: Dictionary = doc if doc is Dictionary else {}
	if status != 200:
		var why := str(d.get("reason", d.get("detail", d.get("error", body.strip_edges()))))
		if why.is_empty():
			why = "no reason given"
		_min_delay_s = _retry_after_s(d, headers)
		_bootstrap_error(status, why)
		return false
	var t: Variant = d.get("ticket")
	var ep := str(d.get("endpoint", ""))
	var why := ""
	if not (t is String and P.is_ticket(t)):
		why = "the answer has no valid ticket"
	elif not (ep.begins_with("ws://") or ep.begins_with("wss://")):
		why = "the answer's endpoint '%s' is not a ws:// URL" % ep
	if not why.is_empty():
		_bootstrap_error(status, why)
		return false
	bootstrapping = false
	bootstrap_info = d
	ticket = t
	url = ep
	map_id = str(d.get("mapId", ""))
	bootstrapped.emit(map_id, url)
	_open()
	return true


## A failed bootstrap: HTTP [param status] (0: no answer). 5xx / 408 / 429 / no answer are
## retried with backoff; anything else stops the client.
func _bootstrap_error(status: int, why: String) -> void:
	bootstrapping = false
	var text := (
		"bootstrap failed (HTTP %d): %s" % [status, why]
		if status > 0
		else "bootstrap failed: %s" % why
	)
	push_warning("PSNetClient: " + text)
	bootstrap_failed.emit(status, why)
	var retry := status == 0 or status >= 500 or status == 408 or status == 429
	_end(ABNORMAL_CLOSE, text, not retry)


func _cancel_bootstrap() -> void:
	if bootstrapping and _http != null:
		_http.cancel_request()
	bootstrapping = false


## The wait an error answer asks for (retryAfterMs, or the Retry-After header), seconds.
static func _retry_after_s(d: Dictionary, headers: PackedStringArray) -> float:
	var ms: Variant = d.get("retryAfterMs")
	if ms is float or ms is int:
		return maxf(0.0, float(ms) / 1000.0)
	for h in headers:
		if h.to_lower().begins_with("retry-after:"):
			var v := h.substr(h.find(":") + 1).strip_edges()
			if v.is_valid_float():
				return maxf(0.0, v.to_float())
	return 0.0


static func _http_result_text(result: int) -> String:
	match result:
		HTTPRequest.RESULT_CANT_CONNECT:
			return "cannot connect"
		HTTPRequest.RESULT_CANT_RESOLVE:
			return "cannot resolve the host"
		HTTPRequest.RESULT_CONNECTION_ERROR:
			return "connection error"
		HTTPRequest.RESULT_TLS_HANDSHAKE_ERROR:
			return "TLS handshake error"
		HTTPRequest.RESULT_TIMEOUT:
			return "timeout"
	return "HTTPRequest result %d" % result


## The session is over: report once, then maybe schedule a reconnect. [param give_up]:
## stop trying (reported by [signal gave_up]).
func _end(code: int, reason: String, give_up: bool = false) -> void:
	_set_state(P.SessionState.CLOSED)
	if _peer != null and _peer.get_ready_state() != WebSocketPeer.STATE_CLOSED:
		_peer.close(code if code >= 1000 and code != ABNORMAL_CLOSE else 1000, reason.left(120))
	_peer = null
	if _closed_reported:
		return
	_closed_reported = true
	_pending_transform = null
	var handoff := _handoff
	_handoff = false
	if not handoff:
		ticket = ""  # one-time: a lost connection bootstraps again
		if reason.begins_with("transferred to "):
			# Godot's WebSocketPeer drops the frames that arrive together with the close
			# frame: a server that closes right after TRANSFER_TO loses it for us
			push_warning("PSNetClient: closed (%s) without a readable TRANSFER_TO" % reason)
	var min_delay := _min_delay_s
	_min_delay_s = 0.0
	if not _want:
		give_up = false  # closed on purpose
	elif code in NO_RETRY_CODES:
		give_up = true
	elif code == P.ErrorCode.TICKET_DENIED and not handoff:
		give_up = give_up or _ticket_retry_used
		_ticket_retry_used = true
	if give_up:
		_want = false
		last_error = reason
	disconnected.emit(code, reason)
	if give_up:
		_reconnect_at_s = -1.0
		gave_up.emit(code, reason)
		return
	if not _want:
		return
	if handoff:
		attempt = 0
		_reconnect_at_s = _now()  # the next poll opens the new map's endpoint
		return
	if not auto_reconnect:
		return
	var delay := backoff_delay(attempt, backoff_initial_s, backoff_max_s, _rng.randf())
	if code == P.ErrorCode.TICKET_DENIED:
		delay = 0.0  # the one extra attempt, at once (a new bootstrap)
	delay = maxf(delay, min_delay)
	attempt += 1
	_reconnect_at_s = _now() + delay
	reconnect_scheduled.emit(delay, attempt)


func _set_state(s: int) -> void:
	if s != state:
		state = s
		state_changed.emit(s)


func _flush_transform(now: float) -> void:
	if _pending_transform == null or state != P.SessionState.JOINED:
		return
	if now - _last_transform_s < 1.0 / transform_rate_hz:
		return
	if send(PSCodec.transform(_pending_transform)):
		_last_transform_s = now
	_pending_transform = null


static func _now() -> float:
	return Time.get_ticks_usec() / 1.0e6
