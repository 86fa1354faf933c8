class_name PSAvatars
extends Node3D
## The other players as avatars ([PSAvatar]: body, head, both hands), shown by snapshot
## interpolation [member delay_s] behind the newest PLAYER_STATES: each snapshot is stamped
## with its local arrival time, and every frame each avatar shows its pose interpolated
## (positions linearly, rotations by slerp) between the two snapshots around
## [code]now - delay_s[/code]; past the newest one it holds it (no extrapolation).
##
## Poses are planet-centred world metres; [member origin] (the terrain's floating origin)
## turns them into scene positions, so keep this node at the scene origin.

signal avatar_added(player_id: int, avatar: PSAvatar)
signal avatar_removed(player_id: int)

const AVATAR_SCENE := preload("res://net/avatar.tscn")
const MAX_SNAPSHOTS := 32
## How fast (s per s) the tick-to-local offset drifts up when no faster frame comes.
const OFFSET_RELAX_S := 0.01

@export_range(0.0, 1.0, 0.01, "suffix:s") var delay_s := 0.1
## World to scene; null: world = scene.
var origin: PSFloatingOrigin

## player_id -> {"node": PSAvatar, "snaps": [[time_s, pose set], ...]}
var _players: Dictionary = {}
var _offset := 0.0
var _offset_at := -1.0


## Players shown.
func player_ids() -> Array:
	return _players.keys()


func get_avatar(player_id: int) -> PSAvatar:
	var e: Dictionary = _players.get(player_id, {})
	return e.get("node")


## Add PLAYER_STATES [param players] ([[id, pose set], ...]) received at [param now_s]
## (default: now). With the frame's server [param tick] and the tick rate, the snapshot is
## stamped on the server's timeline mapped to the local clock (see [method stamp]), so
## network jitter does not show as jerky motion.
func push_states(
	players: Array, now_s: float = -1.0, tick: int = -1, tick_rate_hz: float = 0.0
) -> void:
	var arrival := now_s if now_s >= 0.0 else _now()
	var t := stamp(arrival, tick, tick_rate_hz)
	for e: Array in players:
		var pid: int = e[0]
		if not _players.has(pid):
			var node: PSAvatar = AVATAR_SCENE.instantiate()
			node.name = "Player%d" % pid
			add_child(node)
			_players[pid] = {"node": node, "snaps": []}
			avatar_added.emit(pid, node)
		var snaps: Array = _players[pid]["snaps"]
		if not snaps.is_empty() and float(snaps[-1][0]) >= t:
			snaps.pop_back()  # out of order or same tick: keep the newest pose
		snaps.append([t, e[1]])
		if snaps.size() > MAX_SNAPSHOTS:
			snaps.pop_front()


## Local time of server [param tick]: tick / rate + the smallest (arrival - tick / rate)
## seen (the least delayed frame), which relaxes by [constant OFFSET_RELAX_S] per second so
## a changed clock or route is followed. Without a tick: [param arrival].
func stamp(arrival: float, tick: int, tick_rate_hz: float) -> float:
	if tick < 0 or tick_rate_hz <= 0.0:
		return arrival
	var server_t := tick / tick_rate_hz
	var sample := arrival - server_t
	if _offset_at < 0.0:
		_offset = sample
	else:
		_offset += OFFSET_RELAX_S * maxf(arrival - _offset_at, 0.0)
		_offset = minf(_offset, sample)
	_offset_at = arrival
	return server_t + _offset


## Forget player [param player_id] (PLAYER_LEFT).
func remove_player(player_id: int) -> void:
	var e: Dictionary = _players.get(player_id, {})
	if e.is_empty():
		return
	_players.erase(player_id)
	(e["node"] as Node).queue_free()
	avatar_removed.emit(player_id)


func clear() -> void:
	for pid: int in _players.keys():
		remove_player(pid)


## The pose set of [param player_id] shown at local time [param t] (null if unknown).
func sample(player_id: int, t: float) -> Variant:
	var e: Dictionary = _players.get(player_id, {})
	if e.is_empty():
		return null
	return sample_snapshots(e["snaps"], t - delay_s)


func _process(_delta: float) -> void:
	var now := _now()
	for pid: int in _players:
		var e: Dictionary = _players[pid]
		var ps: Variant = sample_snapshots(e["snaps"], now - delay_s)
		if ps == null:
			continue
		var body: Dictionary = ps["body"]
		var pos: Vector3 = body["position"]
		if origin != null:
			pos = origin.world_to_scene(pos)
		var xf := Transform3D(Basis((body["rotation"] as Quaternion).normalized()), pos)
		(e["node"] as PSAvatar).show_poses(xf, ps)


## Interpolate snapshots [[time, pose set], ...] (ascending time) at [param t].
static func sample_snapshots(snaps: Array, t: float) -> Variant:
	if snaps.is_empty():
		return null
	if t <= float(snaps[0][0]):
		return snaps[0][1]
	for i in range(snaps.size() - 1, -1, -1):
		var a: Array = snaps[i]
		if float(a[0]) <= t:
			if i == snaps.size() - 1:
				return a[1]
			var b: Array = snaps[i + 1]
			var span := float(b[0]) - float(a[0])
			var w := 1.0 if span <= 0.0 else (t - float(a[0])) / span
			return lerp_pose_set(a[1], b[1], w)
	return snaps[0][1]


## Pose set between [param a] and [param b] at [param w] in [0, 1]; a VR pose present in
## only one of them is taken from the nearer one.
static func lerp_pose_set(a: Dictionary, b: Dictionary, w: float) -> Dictionary:
	var out := {}
	for k: String in ["body", "head", "left_hand", "right_hand"]:
		var pa: Variant = a.get(k)
		var pb: Variant = b.get(k)
		if pa == null or pb == null:
			out[k] = pa if w < 0.5 else pb
			continue
		out[k] = lerp_pose(pa, pb, w)
	return out


static func lerp_pose(a: Dictionary, b: Dictionary, w: float) -> Dictionary:
	var qa: Quaternion = (a["rotation"] as Quaternion).normalized()
	var qb: Quaternion = (b["rotation"] as Quaternion).normalized()
	return {
		"position": (a["position"] as Vector3).lerp(b["position"], w),
		"rotation": qa.slerp(qb, w),
	}


static func _now() -> float:
	return Time.get_ticks_usec() / 1.0e6
