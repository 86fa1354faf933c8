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
## Tests drive the state machine without a socket: set [member transport] to a Callable
## that takes each outgoing frame, then feed frames to [method receive_frame].

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
signal state_changed(state: int)

const P := preload("res://net/protocol.gd")
const OP := P.Opcode
const U32_MASK := 0xFFFFFFFF
## Close codes after which reconnecting cannot help.
const NO_RETRY_CODES: Array[int] = [P.ErrorCode.UNSUPPORTED_VERSION]

@export var client_name := "godot-client"
@export var display_name := ""
## Empty: a disposable session; otherwise the persistent character's key.
@export var auth_key := ""
@export var auto_reconnect := true
@export_range(0.05, 60.0, 0.05, "suffix:s") var backoff_initial_s := 0.5
@export_range(0.5, 600.0, 0.5, "suffix:s") var backoff_max_s := 30.0
@export_range(0.1, 60.0, 0.1, "suffix:s") var ping_interval_s := 2.0
@export_range(1.0, 60.0, 0.5, "suffix:s") var connect_timeout_s := 10.0
## Largest PLAYER_TRANSFORM rate.
@export_range(1.0, 20.0, 1.0, "suffix:Hz") var transform_rate_hz := 20.0

## Outgoing frames go here instead of the socket when valid (tests).
var transport: Callable
var url := ""
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


func _ready() -> void:
	_rng.randomize()


func _exit_tree() -> void:
	if state != P.SessionState.CLOSED:
		close(P.ErrorCode.GOING_AWAY, "client leaving")


func _process(_delta: float) -> void:
	poll()


## Connect to [param server_url] (ws://HOST:PORT) and join; reconnects until [method close].
func connect_to_server(server_url: String) -> void:
	url = server_url
	_want = true
	attempt = 0
	_open()


## Leave: GOODBYE [param code] and close the socket; no reconnect.
func close(code: int = P.ErrorCode.NORMAL, reason: String = "client leaving") -> void:
	_want = false
	_reconnect_at_s = -1.0
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
	if frame.size() < P.HEADER_SIZE:
		return false
	var op: int = frame[0]
	if not P.client_may_send(state, op):
		push_warning(
			(
				"PSNetClient: %s not allowed in state %s"
				% [P.opcode_name(op), P.SessionState.find_key(state)]
			)
		)
		return false
	if frame.size() > max_frame_bytes:
		push_warning(
			"PSNetClient: %d-byte frame exceeds the server's %d" % [frame.size(), max_frame_bytes]
		)
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
				_greeted = true
				send(PSCodec.hello(client_name))
				send(PSCodec.join(auth_key, display_name))
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
			_end(code if code > 0 else 1006, reason if reason != "" else "connection lost")
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
			welcome_info = m
			max_frame_bytes = maxi(int(m["max_frame_bytes"]), P.HEADER_SIZE)
			_set_state(P.SessionState.AWAIT_JOIN)
			welcomed.emit(v, m["tick_rate_hz"], m["max_frame_bytes"], m["server_name"])
		OP.JOIN_ACCEPTED:
			join_info = m
			player_id = m["player_id"]
			server_tick = m["server_tick"]
			attempt = 0
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
			if P.is_fatal(code):
				_close_code = code
				_close_reason = m["reason"]
				_set_state(P.SessionState.CLOSED)
		OP.GOODBYE:
			_close_code = m["code"]
			_close_reason = m["reason"]
			_set_state(P.SessionState.CLOSED)
			if transport.is_valid():
				_end(_close_code, _close_reason)


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
	welcome_info = {}
	join_info = {}
	connection_started.emit(url, attempt)
	_set_state(P.SessionState.AWAIT_HELLO)
	if transport.is_valid():
		_greeted = true
		send(PSCodec.hello(client_name))
		send(PSCodec.join(auth_key, display_name))
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


## The session is over: report once, then maybe schedule a reconnect.
func _end(code: int, reason: String) -> void:
	_set_state(P.SessionState.CLOSED)
	if _peer != null and _peer.get_ready_state() != WebSocketPeer.STATE_CLOSED:
		_peer.close(code if code >= 1000 and code != 1006 else 1000, reason.left(120))
	_peer = null
	if _closed_reported:
		return
	_closed_reported = true
	_pending_transform = null
	disconnected.emit(code, reason)
	if _want and auto_reconnect and code not in NO_RETRY_CODES:
		var delay := backoff_delay(attempt, backoff_initial_s, backoff_max_s, _rng.randf())
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
