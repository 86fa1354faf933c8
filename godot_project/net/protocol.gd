class_name PSProtocol
extends RefCounted
## Wire protocol constants (docs/protocol.md), mirrored from the Python reference
## [code]server/protocol/[/code]: opcodes (same names and ordinals as
## [code]server/protocol/opcodes.py[/code], checked by tests/client/test_net_protocol_parity.py),
## error / close codes, reject reasons, the client's half of the session state table.
##
## Every frame: [code]u8 opcode, u8 flags[/code] (flags reserved: write 0, ignore on read),
## then the body; integers little-endian; [code]str[/code] = u16 n + n bytes UTF-8;
## [code]coord[/code] = 3 x i32; [code]vec3d[/code] = 3 x f64; [code]vec3f[/code] = 3 x f32;
## [code]quat[/code] = 4 x f32 (x, y, z, w); [code]pose[/code] = vec3f + quat.
##
## Changelog: 1 (2026-11-24) first version; 2 (2026-11-24) TERRAIN_DELTA chunk entries may
## use encoding 2 INCREMENTAL_ZSTD (u32 base_version before the payload fields); 3
## JOIN_WITH_TICKET, TRANSFER_REQUEST, TRANSFER_TO, error 4010 TICKET_DENIED and notice 4103
## TRANSFER_REFUSED (orchestrator join tickets and map transfers).

## First byte of every frame. C->S client to server, S->C server to client.
enum Opcode {
	HELLO = 1,  ## C->S  u16 max_version, u16 min_version, str client_name (<= 64 B)
	## S->C  u16 version, u16 min_version, u16 tick_rate_hz, u32 max_frame_bytes, str server_name
	WELCOME = 2,
	JOIN = 3,  ## C->S  str auth_key (<= 128 B, "" = disposable), str display_name (<= 32 B)
	## S->C  u32 player_id, u32 character_id, u64 world_seed, u16 planet_index, u32 tick,
	## vec3d position, quat rotation, u16 view_radius_chunks, u8 n, n x u32 canister soil
	JOIN_ACCEPTED = 4,
	CHUNK_SUBSCRIBE = 5,  ## C->S  u16 n (1..1024), n x coord
	CHUNK_UNSUBSCRIBE = 6,  ## C->S  u16 n (1..1024), n x coord
	## S->C  chunk entry: coord, u32 version, u8 encoding, [u32 size, u32 n, n bytes zstd]
	## (encoding 2, TERRAIN_DELTA only: u32 base_version before size)
	CHUNK_STATE = 7,
	TERRAIN_DELTA = 8,  ## S->C  u32 tick, u16 n (1..1024), n x chunk entry
	EDIT_REQUEST = 9,  ## C->S  u32 seq, u8 mode, vec3d centre, f32 radius
	## S->C  u32 seq, u8 accepted, u8 reason, i32 soil_delta, u32 soil_total, u16 n,
	## n x (coord, u32 version)
	EDIT_RESULT = 10,
	PLAYER_TRANSFORM = 11,  ## C->S  pose set (u8 flags, pose body, [head], [left hand], [right hand])
	PLAYER_STATES = 12,  ## S->C  u32 tick, u16 n (1..1024), n x (u32 player_id, pose set)
	PLAYER_LEFT = 13,  ## S->C  u32 player_id, u8 reason (0 disconnected, 1 out of area)
	PING = 14,  ## C->S  u32 nonce, f64 client_time_s
	PONG = 15,  ## S->C  u32 nonce, f64 client_time_s (echoed), f64 server_time_s, u32 server_tick
	ERROR = 16,  ## S->C  u16 code, u32 context, str reason (<= 512 B)
	GOODBYE = 17,  ## both  u16 code, str reason (<= 512 B)
	## C->S  str ticket (1..2048 B printable ASCII), str display_name (<= 32 B); v3
	JOIN_WITH_TICKET = 18,
	TRANSFER_REQUEST = 19,  ## C->S  str to_map_id (1..64 B of [a-z0-9-]); v3
	## S->C  str to_map_id, str endpoint (<= 256 B), str token (1..2048 B printable ASCII),
	## u32 expires_in_ms; v3, then GOODBYE 1000 and close
	TRANSFER_TO = 20,
}

## ERROR / GOODBYE codes and WebSocket close codes (u16). Below 4100: fatal.
enum ErrorCode {
	NORMAL = 1000,
	GOING_AWAY = 1001,
	UNSUPPORTED_DATA = 1003,
	MESSAGE_TOO_BIG = 1009,
	INTERNAL_ERROR = 1011,
	MALFORMED_MESSAGE = 4000,
	UNKNOWN_OPCODE = 4001,
	UNEXPECTED_MESSAGE = 4002,
	UNSUPPORTED_VERSION = 4003,
	INVALID_VALUE = 4004,
	RATE_LIMITED = 4005,
	JOIN_REJECTED = 4006,
	SERVER_FULL = 4007,
	HANDSHAKE_TIMEOUT = 4008,
	SLOW_CONSUMER = 4009,
	TICKET_DENIED = 4010,
	CHUNK_OUT_OF_RANGE = 4100,
	TOO_MANY_SUBSCRIPTIONS = 4101,
	TRANSFORM_REJECTED = 4102,
	TRANSFER_REFUSED = 4103,
}

## Why the world refused an edit or a transform (docs/terrain.md 2.1); 0 = accepted.
enum RejectReason {
	NONE = 0,
	OUT_OF_REACH = 1,
	RADIUS_OUT_OF_RANGE = 2,
	RATE_LIMITED = 3,
	NOT_ENOUGH_SOIL = 4,
	CANISTERS_FULL = 5,
	OUTSIDE_WORLD = 6,
	INVALID_NUMBER = 7,
	NO_EFFECT = 8,
	UNKNOWN_PLAYER = 9,
	INVALID_SLOT = 10,
	UNKNOWN_CANISTER = 11,
	NOTHING_TO_UNDO = 12,
}

## Terrain tool modes (u8).
enum EditMode { EXCAVATE = 0, ELEVATE = 1, FLATTEN = 2 }

## How a chunk entry carries its voxels (u8).
## INCREMENTAL_ZSTD (protocol version 2, TERRAIN_DELTA only): the voxels changed since
## base_version, as a sparse delta; apply only on top of exactly that version.
enum ChunkEncoding { GENERATED = 0, DELTA_ZSTD = 1, INCREMENTAL_ZSTD = 2 }

## Why a player left a client's view (u8).
enum LeaveReason { DISCONNECTED = 0, OUT_OF_AREA = 1 }

## Session states, the same on both sides (server/protocol/states.py).
enum SessionState { AWAIT_HELLO, AWAIT_JOIN, JOINED, CLOSED }

## Newest protocol version this client speaks.
const PROTOCOL_VERSION := 3
## Oldest protocol version this client accepts.
const MIN_PROTOCOL_VERSION := 1
## Oldest version with JOIN_WITH_TICKET, TRANSFER_REQUEST and TRANSFER_TO.
const TICKET_PROTOCOL_VERSION := 3

## Pose set flag bits: which VR poses follow the body pose.
const POSE_HEAD := 1
const POSE_LEFT_HAND := 2
const POSE_RIGHT_HAND := 4

const HEADER_SIZE := 2
const MAX_NAME_BYTES := 64
const MAX_DISPLAY_NAME_BYTES := 32
const MAX_AUTH_KEY_BYTES := 128
## Join tickets and transfer tokens: 1..2048 bytes of printable ASCII (0x21..0x7e).
const MAX_TICKET_BYTES := 2048
## Map ids ("planet-1"): 1..64 bytes of [a-z0-9-].
const MAX_MAP_ID_BYTES := 64
const MAX_ENDPOINT_BYTES := 256
const MAX_REASON_BYTES := 512
const MAX_COORDS_PER_MESSAGE := 1024
const MAX_CHUNKS_PER_MESSAGE := 1024
const MAX_PLAYERS_PER_MESSAGE := 1024
const MAX_CANISTERS := 32
const MAX_PAYLOAD_BYTES := 1 << 20
const MAX_UNCOMPRESSED_BYTES := 1 << 22
const MAX_ABS_POSITION_M := 1.0e7
const MAX_ABS_QUAT := 1.01
const MAX_RADIUS_M := 1000.0
## Largest frame a client should accept from the server.
const MAX_SERVER_FRAME_BYTES := 16 * 1024 * 1024

## Opcodes a client may receive, by session state (docs/protocol.md 2.2).
const CLIENT_RECEIVES := {
	SessionState.AWAIT_HELLO: [Opcode.WELCOME, Opcode.ERROR, Opcode.GOODBYE],
	SessionState.AWAIT_JOIN: [Opcode.JOIN_ACCEPTED, Opcode.PONG, Opcode.ERROR, Opcode.GOODBYE],
	SessionState.JOINED:
	[
		Opcode.TRANSFER_TO,
		Opcode.CHUNK_STATE,
		Opcode.TERRAIN_DELTA,
		Opcode.EDIT_RESULT,
		Opcode.PLAYER_STATES,
		Opcode.PLAYER_LEFT,
		Opcode.PONG,
		Opcode.ERROR,
		Opcode.GOODBYE,
	],
	SessionState.CLOSED: [],
}

## Opcodes a client may send, by session state (JOIN / JOIN_WITH_TICKET may be pipelined
## after HELLO).
const CLIENT_SENDS := {
	SessionState.AWAIT_HELLO: [Opcode.HELLO, Opcode.JOIN, Opcode.JOIN_WITH_TICKET, Opcode.GOODBYE],
	SessionState.AWAIT_JOIN: [Opcode.JOIN, Opcode.JOIN_WITH_TICKET, Opcode.PING, Opcode.GOODBYE],
	SessionState.JOINED:
	[
		Opcode.TRANSFER_REQUEST,
		Opcode.CHUNK_SUBSCRIBE,
		Opcode.CHUNK_UNSUBSCRIBE,
		Opcode.EDIT_REQUEST,
		Opcode.PLAYER_TRANSFORM,
		Opcode.PING,
		Opcode.GOODBYE,
	],
	SessionState.CLOSED: [],
}


## True if [param opcode] names a message.
static func is_opcode(opcode: int) -> bool:
	return opcode >= Opcode.HELLO and opcode <= Opcode.TRANSFER_TO


## Opcodes that need a session of protocol version >= [constant TICKET_PROTOCOL_VERSION].
static func min_version_of(opcode: int) -> int:
	if opcode in [Opcode.JOIN_WITH_TICKET, Opcode.TRANSFER_REQUEST, Opcode.TRANSFER_TO]:
		return TICKET_PROTOCOL_VERSION
	return MIN_PROTOCOL_VERSION


## True if [param text] is a valid ticket / transfer token: 1..2048 bytes, every one
## printable ASCII (0x21..0x7e).
static func is_ticket(text: String) -> bool:
	return is_ticket_bytes(text.to_utf8_buffer())


static func is_ticket_bytes(b: PackedByteArray) -> bool:
	if b.is_empty() or b.size() > MAX_TICKET_BYTES:
		return false
	for c in b:
		if c < 0x21 or c > 0x7E:
			return false
	return true


## True if [param text] is a valid map id: 1..64 bytes of [code][a-z0-9-][/code].
static func is_map_id(text: String) -> bool:
	return is_map_id_bytes(text.to_utf8_buffer())


static func is_map_id_bytes(b: PackedByteArray) -> bool:
	if b.is_empty() or b.size() > MAX_MAP_ID_BYTES:
		return false
	for c in b:
		var ok := (c >= 0x61 and c <= 0x7A) or (c >= 0x30 and c <= 0x39) or c == 0x2D
		if not ok:
			return false
	return true


## True if the client may receive [param opcode] in [param state].
static func client_may_receive(state: int, opcode: int) -> bool:
	return opcode in (CLIENT_RECEIVES.get(state, []) as Array)


## True if the client may send [param opcode] in [param state].
static func client_may_send(state: int, opcode: int) -> bool:
	return opcode in (CLIENT_SENDS.get(state, []) as Array)


## True for codes that end the session (below 4100).
static func is_fatal(code: int) -> bool:
	return code < 4100


## Name of an opcode ("OPCODE_42" for unknown values).
static func opcode_name(opcode: int) -> String:
	var k: Variant = Opcode.find_key(opcode)
	return str(k) if k != null else "OPCODE_%d" % opcode


## Name of a reject reason ("REASON_42" for unknown values).
static func reject_reason_name(reason: int) -> String:
	var k: Variant = RejectReason.find_key(reason)
	return str(k) if k != null else "REASON_%d" % reason


## Human-readable text of a reject reason, for the HUD.
static func reject_reason_text(reason: int) -> String:
	match reason:
		RejectReason.NONE:
			return "accepted"
		RejectReason.OUT_OF_REACH:
			return "out of reach"
		RejectReason.RADIUS_OUT_OF_RANGE:
			return "tool radius out of range"
		RejectReason.RATE_LIMITED:
			return "too many edits, slow down"
		RejectReason.NOT_ENOUGH_SOIL:
			return "not enough soil in the canisters"
		RejectReason.CANISTERS_FULL:
			return "canisters full"
		RejectReason.OUTSIDE_WORLD:
			return "outside the world"
		RejectReason.INVALID_NUMBER:
			return "invalid number"
		RejectReason.NO_EFFECT:
			return "no effect"
		RejectReason.UNKNOWN_PLAYER:
			return "unknown player"
	return reject_reason_name(reason).to_lower().replace("_", " ")


## Name of an error code ("CODE_42" for unknown values).
static func error_name(code: int) -> String:
	var k: Variant = ErrorCode.find_key(code)
	return str(k) if k != null else "CODE_%d" % code
