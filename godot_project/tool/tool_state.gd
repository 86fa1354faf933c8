class_name PSToolState
extends RefCounted
## The terrain tool's settings, shared by the VR rig and the desktop spectator: the edit
## mode, the sphere radius within the server's limits, and the construction of edit
## requests (docs/protocol.md, EDIT_REQUEST). No nodes, no I/O: tested on its own.

## Emitted when [member mode] or [member radius_m] changed.
signal changed

## Edit modes; the ordinals are the protocol's EDIT_REQUEST mode byte.
enum Mode { EXCAVATE = 0, ELEVATE = 1, FLATTEN = 2 }

## The world's tool radius range (server/world/types.py: min_radius_m, max_radius_m).
const RADIUS_MIN_M := 0.5
const RADIUS_MAX_M := 4.0
const RADIUS_DEFAULT_M := 1.5
## The world's tool reach (tool_reach_m): farther aim points are rejected OUT_OF_REACH.
const REACH_M := 8.0
## Protocol sequence numbers are u32.
const SEQ_MODULUS := 4294967296

const MODE_NAMES: Array[String] = ["excavate", "elevate", "flatten"]

var mode: Mode = Mode.EXCAVATE
var radius_m := RADIUS_DEFAULT_M
var _next_seq := 1


## Set the radius, clamped to [[constant RADIUS_MIN_M], [constant RADIUS_MAX_M]]; returns
## the radius now in use.
func set_radius(value_m: float) -> float:
	var r := RADIUS_DEFAULT_M if is_nan(value_m) else clampf(value_m, RADIUS_MIN_M, RADIUS_MAX_M)
	if r != radius_m:
		radius_m = r
		changed.emit()
	return radius_m


## Change the radius at [param rate_m_per_s] (a thumbstick axis times a speed) for
## [param delta_s] seconds.
func change_radius(rate_m_per_s: float, delta_s: float) -> float:
	return set_radius(radius_m + rate_m_per_s * delta_s)


## The next mode in the order excavate, elevate, flatten, excavate.
func cycle_mode() -> Mode:
	return set_mode((int(mode) + 1) % MODE_NAMES.size() as Mode)


func set_mode(value: Mode) -> Mode:
	if value != mode:
		mode = value
		changed.emit()
	return mode


func mode_name() -> String:
	return MODE_NAMES[int(mode)]


## Mode from its name ("excavate", "elevate", "flatten"), or -1.
static func mode_from_name(text: String) -> int:
	return MODE_NAMES.find(text.to_lower())


## An edit request for [param centre_world] (metres from the planet's centre, float64, as
## [x, y, z]) with the current mode and radius and a fresh sequence number:
## [code]{seq: int, mode: int, centre: PackedFloat64Array, radius: float}[/code], the fields of
## EDIT_REQUEST. Returns an empty dictionary for a centre that is not three finite numbers.
func build_request(centre_world: PackedFloat64Array) -> Dictionary:
	if centre_world.size() != 3:
		return {}
	for v in centre_world:
		if is_nan(v) or is_inf(v):
			return {}
	var seq := _next_seq
	_next_seq = (_next_seq + 1) % SEQ_MODULUS
	if _next_seq == 0:
		_next_seq = 1
	return {
		"seq": seq,
		"mode": int(mode),
		"centre": centre_world.duplicate(),
		"radius": radius_m,
	}


## The sequence number the next request will carry.
func peek_seq() -> int:
	return _next_seq


## Start numbering at [param seq] (1 .. 2^32 - 1), e.g. to continue after a reconnect.
func reset_seq(seq: int) -> void:
	_next_seq = clampi(seq, 1, SEQ_MODULUS - 1)
