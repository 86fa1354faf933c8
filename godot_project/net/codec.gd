class_name PSCodec
extends RefCounted
## Binary codec of the wire protocol (docs/protocol.md; reference server/protocol/codec.py).
##
## A message is a [Dictionary] with [code]"opcode"[/code] ([enum PSProtocol.Opcode]) and the
## fields named as in the Python message classes:
## [codeblock]
## coord      Vector3i                 vec3d     PackedFloat64Array(3), metres
## vec3f      Vector3                  quat      Quaternion (x, y, z, w)
## pose       {position: Vector3, rotation: Quaternion}
## pose set   {body: pose, head: pose|null, left_hand: pose|null, right_hand: pose|null}
## chunk      {coord, version, payload: PackedByteArray|null, uncompressed_size,
##             [base_version]: only for encoding 2 INCREMENTAL_ZSTD, in TERRAIN_DELTA}
## [/codeblock]
## e.g. EDIT_RESULT = {opcode, seq, accepted: bool, reason, soil_delta, soil_total,
## chunk_versions: [[Vector3i, version], ...]}. [method encode] also takes JSON-shaped
## values (Arrays for vectors, numbers as floats, hex strings for payloads), as in
## tests/server/golden_frames.json.
##
## [method decode] never raises and never reads past the frame: a malformed frame gives
## null and fills [param error] with [code]code[/code] (the close code to answer with:
## 4000 truncated / trailing bytes / bad UTF-8, 4001 unknown opcode, 4004 a value out of
## range, NaN or infinite) and [code]reason[/code]. [method encode] gives an empty
## [PackedByteArray] for a message it cannot encode (unknown opcode, bad or missing value).

const P := preload("res://net/protocol.gd")
const OP := P.Opcode
const MALFORMED := P.ErrorCode.MALFORMED_MESSAGE
const INVALID := P.ErrorCode.INVALID_VALUE
const U16_MAX := 0xFFFF

# ---- decoding ---------------------------------------------------------------------------


## The message in [param frame] (a Dictionary, see the class description), or null when the
## frame is malformed; then [param error] gets [code]code[/code] and [code]reason[/code].
static func decode(frame: PackedByteArray, error: Dictionary = {}) -> Variant:
	if frame.size() < P.HEADER_SIZE:
		error["code"] = MALFORMED
		error["reason"] = "frame of %d bytes is shorter than the header" % frame.size()
		return null
	var op: int = frame[0]
	if not P.is_opcode(op):
		error["code"] = P.ErrorCode.UNKNOWN_OPCODE
		error["reason"] = "unknown opcode %d" % op
		return null
	var r := PSFrameReader.new(frame, P.HEADER_SIZE)
	var m := _decode_body(op, r)
	r.end()
	if not r.ok:
		error["code"] = r.code
		error["reason"] = "%s: %s" % [P.opcode_name(op), r.reason]
		return null
	m["opcode"] = op
	return m


static func _decode_body(op: int, r: PSFrameReader) -> Dictionary:
	match op:
		OP.HELLO:
			var mx := r.u16()
			var mn := r.u16()
			var m := {
				"max_version": mx,
				"min_version": mn,
				"client_name": r.string(P.MAX_NAME_BYTES, "client_name")
			}
			if r.ok and mn > mx:
				r.fail(INVALID, "min_version > max_version")
			return m
		OP.WELCOME:
			var m := {"version": r.u16(), "min_version": r.u16(), "tick_rate_hz": r.u16()}
			m["max_frame_bytes"] = r.u32()
			m["server_name"] = r.string(P.MAX_NAME_BYTES, "server_name")
			r.range_check(m["tick_rate_hz"], 1, U16_MAX, "tick_rate_hz")
			return m
		OP.JOIN:
			var key := r.string(P.MAX_AUTH_KEY_BYTES, "auth_key")
			return {
				"auth_key": key, "display_name": r.string(P.MAX_DISPLAY_NAME_BYTES, "display_name")
			}
		OP.JOIN_ACCEPTED:
			var m := {"player_id": r.u32(), "character_id": r.u32(), "world_seed": r.u64()}
			m["planet_index"] = r.u16()
			m["server_tick"] = r.u32()
			m["position"] = r.vec3d(P.MAX_ABS_POSITION_M, "position")
			m["rotation"] = r.quat("rotation")
			m["view_radius_chunks"] = r.u16()
			var n := r.u8()
			var cans := PackedInt64Array()
			for i in n:
				cans.append(r.u32())
			m["canisters"] = cans
			r.range_check(n, 0, P.MAX_CANISTERS, "canisters")
			return m
		OP.CHUNK_SUBSCRIBE, OP.CHUNK_UNSUBSCRIBE:
			var n := r.u16()
			var coords: Array[Vector3i] = []
			for i in n:
				if not r.ok:
					break
				coords.append(r.coord())
			r.range_check(n, 1, P.MAX_COORDS_PER_MESSAGE, "coords")
			return {"coords": coords}
		OP.CHUNK_STATE:
			return {"chunk": r.chunk()}
		OP.TERRAIN_DELTA:
			var tick := r.u32()
			var n := r.u16()
			var chunks: Array[Dictionary] = []
			for i in n:
				if not r.ok:
					break
				chunks.append(r.chunk(true))
			r.range_check(n, 1, P.MAX_CHUNKS_PER_MESSAGE, "chunks")
			return {"tick": tick, "chunks": chunks}
		OP.EDIT_REQUEST:
			var m := {"seq": r.u32(), "mode": r.u8()}
			m["centre"] = r.vec3d(P.MAX_ABS_POSITION_M, "centre")
			m["radius"] = r.check(r.f32(), P.MAX_RADIUS_M, "radius")
			r.range_check(m["mode"], 0, P.EditMode.FLATTEN, "mode")
			return m
		OP.EDIT_RESULT:
			var m := {"seq": r.u32()}
			var acc := r.u8()
			m["reason"] = r.u8()
			m["soil_delta"] = r.i32()
			m["soil_total"] = r.u32()
			var n := r.u16()
			r.range_check(acc, 0, 1, "accepted")
			m["accepted"] = acc == 1
			var versions: Array = []
			for i in n:
				if not r.ok:
					break
				var c := r.coord()
				versions.append([c, r.u32()])
			r.range_check(n, 0, P.MAX_CHUNKS_PER_MESSAGE, "chunk_versions")
			m["chunk_versions"] = versions
			return m
		OP.PLAYER_TRANSFORM:
			return {"poses": r.pose_set()}
		OP.PLAYER_STATES:
			var tick := r.u32()
			var n := r.u16()
			var players: Array = []
			for i in n:
				if not r.ok:
					break
				var pid := r.u32()
				players.append([pid, r.pose_set()])
			r.range_check(n, 1, P.MAX_PLAYERS_PER_MESSAGE, "players")
			return {"tick": tick, "players": players}
		OP.PLAYER_LEFT:
			var m := {"player_id": r.u32(), "reason": r.u8()}
			r.range_check(m["reason"], 0, P.LeaveReason.OUT_OF_AREA, "reason")
			return m
		OP.PING:
			var nonce := r.u32()
			return {"nonce": nonce, "client_time_s": r.check(r.f64(), INF, "client_time_s")}
		OP.PONG:
			var m := {"nonce": r.u32()}
			m["client_time_s"] = r.check(r.f64(), INF, "client_time_s")
			m["server_time_s"] = r.check(r.f64(), INF, "server_time_s")
			m["server_tick"] = r.u32()
			return m
		OP.ERROR:
			var m := {"code": r.u16(), "context": r.u32()}
			m["reason"] = r.string(P.MAX_REASON_BYTES, "reason")
			return m
		OP.GOODBYE:
			var code := r.u16()
			return {"code": code, "reason": r.string(P.MAX_REASON_BYTES, "reason")}
		OP.JOIN_WITH_TICKET:
			var ticket := _str_bytes(r)
			var display := _str_bytes(r)
			_check_ticket(r, ticket, "ticket")
			if r.ok and display.size() > P.MAX_DISPLAY_NAME_BYTES:
				r.fail(
					INVALID,
					(
						"display_name is %d bytes, the limit is %d"
						% [display.size(), P.MAX_DISPLAY_NAME_BYTES]
					)
				)
			return {"ticket": _text(ticket), "display_name": _text(display)}
		OP.TRANSFER_REQUEST:
			var to := _str_bytes(r)
			_check_map_id(r, to, "to_map_id")
			return {"to_map_id": _text(to)}
		OP.TRANSFER_TO:
			var to := _str_bytes(r)
			var endpoint := _str_bytes(r)
			var token := _str_bytes(r)
			var m := {"to_map_id": _text(to), "endpoint": _text(endpoint), "token": _text(token)}
			m["expires_in_ms"] = r.u32()
			_check_map_id(r, to, "to_map_id")
			if r.ok and endpoint.size() > P.MAX_ENDPOINT_BYTES:
				r.fail(
					INVALID,
					(
						"endpoint is %d bytes, the limit is %d"
						% [endpoint.size(), P.MAX_ENDPOINT_BYTES]
					)
				)
			_check_ticket(r, token, "token")
			return m
	r.fail(P.ErrorCode.UNKNOWN_OPCODE, "unknown opcode %d" % op)
	return {}


## The UTF-8 bytes of a [code]str[/code], checked to be valid UTF-8 but not against a
## limit: the new (v3) messages validate their values after reading every field, in the
## Python decoder's order (truncation 4000, then values 4004, then trailing bytes 4000).
static func _str_bytes(r: PSFrameReader) -> PackedByteArray:
	var n := r.u16()
	var at := r.pos
	var b := r.raw(n)
	if r.ok and not PSFrameReader.valid_utf8(b, 0, b.size()):
		r.fail(MALFORMED, "invalid UTF-8 in string at byte %d" % at)
	return b


static func _text(b: PackedByteArray) -> String:
	return PSFrameReader.utf8_text(b)


static func _check_ticket(r: PSFrameReader, b: PackedByteArray, field: String) -> void:
	if r.ok and not P.is_ticket_bytes(b):
		r.fail(INVALID, "%s must be 1..%d bytes of printable ASCII" % [field, P.MAX_TICKET_BYTES])


static func _check_map_id(r: PSFrameReader, b: PackedByteArray, field: String) -> void:
	if r.ok and not P.is_map_id_bytes(b):
		r.fail(INVALID, "%s must be 1..%d bytes of [a-z0-9-]" % [field, P.MAX_MAP_ID_BYTES])


# ---- encoding ---------------------------------------------------------------------------


## One frame for [param message] (header + body), or an empty array if it cannot be
## encoded; the reason then goes to [param error] ([code]reason[/code]).
static func encode(message: Dictionary, error: Dictionary = {}) -> PackedByteArray:
	var w := PSFrameWriter.new()
	var op := PSFrameWriter.as_int(message.get("opcode", 0))
	if not P.is_opcode(op):
		error["reason"] = "cannot encode opcode %s" % message.get("opcode")
		return PackedByteArray()
	w.uint(op, 8, "opcode")
	w.uint(0, 8, "flags")
	_encode_body(op, message, w)
	if not w.ok:
		error["reason"] = "%s: %s" % [P.opcode_name(op), w.reason]
		return PackedByteArray()
	return w.buf


static func _encode_body(op: int, m: Dictionary, w: PSFrameWriter) -> void:
	match op:
		OP.HELLO:
			w.uint(m.get("max_version"), 16, "max_version")
			w.uint(m.get("min_version"), 16, "min_version")
			if (
				PSFrameWriter.as_int(m.get("min_version"))
				> PSFrameWriter.as_int(m.get("max_version"))
			):
				w.fail("min_version > max_version")
			w.string(m.get("client_name", ""), P.MAX_NAME_BYTES, "client_name")
		OP.WELCOME:
			w.uint(m.get("version"), 16, "version")
			w.uint(m.get("min_version"), 16, "min_version")
			w.uint(m.get("tick_rate_hz"), 16, "tick_rate_hz")
			w.uint(m.get("max_frame_bytes"), 32, "max_frame_bytes")
			w.string(m.get("server_name", ""), P.MAX_NAME_BYTES, "server_name")
		OP.JOIN:
			w.string(m.get("auth_key", ""), P.MAX_AUTH_KEY_BYTES, "auth_key")
			w.string(m.get("display_name", ""), P.MAX_DISPLAY_NAME_BYTES, "display_name")
		OP.JOIN_ACCEPTED:
			w.uint(m.get("player_id"), 32, "player_id")
			w.uint(m.get("character_id"), 32, "character_id")
			w.uint(m.get("world_seed"), 64, "world_seed")
			w.uint(m.get("planet_index"), 16, "planet_index")
			w.uint(m.get("server_tick"), 32, "server_tick")
			w.vec(m.get("position"), 3, true, P.MAX_ABS_POSITION_M, "position")
			w.vec(m.get("rotation"), 4, false, P.MAX_ABS_QUAT, "rotation")
			w.uint(m.get("view_radius_chunks"), 16, "view_radius_chunks")
			var cans := PSFrameWriter.components(m.get("canisters", []), -1)
			w.uint(cans.size(), 8, "canisters")
			if cans.size() > P.MAX_CANISTERS:
				w.fail("more than %d canisters" % P.MAX_CANISTERS)
			for c: Variant in cans:
				w.uint(c, 32, "canister")
		OP.CHUNK_SUBSCRIBE, OP.CHUNK_UNSUBSCRIBE:
			var coords := w.items(m.get("coords"), 1, P.MAX_COORDS_PER_MESSAGE, "coords")
			w.uint(coords.size(), 16, "coords")
			for c: Variant in coords:
				w.coord(c, "coords")
		OP.CHUNK_STATE:
			var cs: Variant = m.get("chunk")
			if typeof(cs) == TYPE_DICTIONARY and (cs as Dictionary).get("base_version") != null:
				w.fail("CHUNK_STATE carries encodings 0 and 1 only")
			w.chunk(cs, "chunk")
		OP.TERRAIN_DELTA:
			w.uint(m.get("tick"), 32, "tick")
			var chunks := w.items(m.get("chunks"), 1, P.MAX_CHUNKS_PER_MESSAGE, "chunks")
			w.uint(chunks.size(), 16, "chunks")
			for c: Variant in chunks:
				w.chunk(c, "chunks")
		OP.EDIT_REQUEST:
			w.uint(m.get("seq"), 32, "seq")
			w.uint(m.get("mode"), 8, "mode")
			if PSFrameWriter.as_int(m.get("mode")) > P.EditMode.FLATTEN:
				w.fail("unknown edit mode %s" % m.get("mode"))
			w.vec(m.get("centre"), 3, true, P.MAX_ABS_POSITION_M, "centre")
			w.real(m.get("radius"), false, P.MAX_RADIUS_M, "radius")
		OP.EDIT_RESULT:
			w.uint(m.get("seq"), 32, "seq")
			w.uint(1 if m.get("accepted") else 0, 8, "accepted")
			w.uint(m.get("reason", 0), 8, "reason")
			w.i32(m.get("soil_delta", 0), "soil_delta")
			w.uint(m.get("soil_total", 0), 32, "soil_total")
			var cv := w.items(
				m.get("chunk_versions", []), 0, P.MAX_CHUNKS_PER_MESSAGE, "chunk_versions"
			)
			w.uint(cv.size(), 16, "chunk_versions")
			for e: Variant in cv:
				var pair: Array = e if typeof(e) == TYPE_ARRAY else []
				if pair.size() != 2:
					w.fail("chunk_versions entries are [coord, version]")
					return
				w.coord(pair[0], "chunk_versions")
				w.uint(pair[1], 32, "chunk_versions")
		OP.PLAYER_TRANSFORM:
			w.pose_set(m.get("poses"), "poses")
		OP.PLAYER_STATES:
			w.uint(m.get("tick"), 32, "tick")
			var players := w.items(m.get("players"), 1, P.MAX_PLAYERS_PER_MESSAGE, "players")
			w.uint(players.size(), 16, "players")
			for e: Variant in players:
				var pair: Array = e if typeof(e) == TYPE_ARRAY else []
				if pair.size() != 2:
					w.fail("players entries are [player_id, pose set]")
					return
				w.uint(pair[0], 32, "player_id")
				w.pose_set(pair[1], "players")
		OP.PLAYER_LEFT:
			w.uint(m.get("player_id"), 32, "player_id")
			w.uint(m.get("reason", 0), 8, "reason")
			if PSFrameWriter.as_int(m.get("reason", 0)) > P.LeaveReason.OUT_OF_AREA:
				w.fail("unknown leave reason")
		OP.PING:
			w.uint(m.get("nonce"), 32, "nonce")
			w.real(m.get("client_time_s"), true, INF, "client_time_s")
		OP.PONG:
			w.uint(m.get("nonce"), 32, "nonce")
			w.real(m.get("client_time_s"), true, INF, "client_time_s")
			w.real(m.get("server_time_s"), true, INF, "server_time_s")
			w.uint(m.get("server_tick"), 32, "server_tick")
		OP.ERROR:
			w.uint(m.get("code"), 16, "code")
			w.uint(m.get("context", 0), 32, "context")
			w.string(m.get("reason", ""), P.MAX_REASON_BYTES, "reason")
		OP.GOODBYE:
			w.uint(m.get("code", P.ErrorCode.NORMAL), 16, "code")
			w.string(m.get("reason", ""), P.MAX_REASON_BYTES, "reason")
		OP.JOIN_WITH_TICKET:
			w.ticket(m.get("ticket"), "ticket")
			w.string(m.get("display_name", ""), P.MAX_DISPLAY_NAME_BYTES, "display_name")
		OP.TRANSFER_REQUEST:
			w.map_id(m.get("to_map_id"), "to_map_id")
		OP.TRANSFER_TO:
			w.map_id(m.get("to_map_id"), "to_map_id")
			w.string(m.get("endpoint", ""), P.MAX_ENDPOINT_BYTES, "endpoint")
			w.ticket(m.get("token"), "token")
			w.uint(m.get("expires_in_ms"), 32, "expires_in_ms")


# ---- message constructors (what the client sends) ---------------------------------------


static func hello(client_name: String) -> Dictionary:
	return {
		"opcode": OP.HELLO,
		"max_version": P.PROTOCOL_VERSION,
		"min_version": P.MIN_PROTOCOL_VERSION,
		"client_name": client_name,
	}


static func join(auth_key: String, display_name: String) -> Dictionary:
	return {"opcode": OP.JOIN, "auth_key": auth_key, "display_name": display_name}


## JOIN_WITH_TICKET (protocol 3): a join ticket from POST /orch/bootstrap, or the token of
## a TRANSFER_TO.
static func join_with_ticket(ticket: String, display_name: String) -> Dictionary:
	return {"opcode": OP.JOIN_WITH_TICKET, "ticket": ticket, "display_name": display_name}


## TRANSFER_REQUEST (protocol 3): ask to move to map [param to_map_id] ("planet-1").
static func transfer_request(to_map_id: String) -> Dictionary:
	return {"opcode": OP.TRANSFER_REQUEST, "to_map_id": to_map_id}


static func subscribe(coords: Array, unsubscribe: bool = false) -> Dictionary:
	var op := OP.CHUNK_UNSUBSCRIBE if unsubscribe else OP.CHUNK_SUBSCRIBE
	return {"opcode": op, "coords": coords}


static func edit_request(
	seq: int, mode: int, centre: PackedFloat64Array, radius: float
) -> Dictionary:
	return {"opcode": OP.EDIT_REQUEST, "seq": seq, "mode": mode, "centre": centre, "radius": radius}


## A pose: position (metres) and rotation.
static func pose(position: Vector3, rotation: Quaternion = Quaternion.IDENTITY) -> Dictionary:
	return {"position": position, "rotation": rotation}


## A pose set: [param body] (planet-centred) and optional VR poses relative to the body.
static func pose_set(
	body: Dictionary, head: Variant = null, left_hand: Variant = null, right_hand: Variant = null
) -> Dictionary:
	return {"body": body, "head": head, "left_hand": left_hand, "right_hand": right_hand}


static func transform(poses: Dictionary) -> Dictionary:
	return {"opcode": OP.PLAYER_TRANSFORM, "poses": poses}


static func ping(nonce: int, client_time_s: float) -> Dictionary:
	return {"opcode": OP.PING, "nonce": nonce, "client_time_s": client_time_s}


static func goodbye(code: int, reason: String) -> Dictionary:
	return {"opcode": OP.GOODBYE, "code": code, "reason": reason}
