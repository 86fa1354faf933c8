class_name PSTerrainTool
extends Node3D
## The terrain tool, shared by the VR rig (on the dominant hand's controller) and the
## desktop spectator (on the camera, see [PSDesktopToolInput]). It aims along its own -Z
## axis, ray-casts against the terrain's collision within [member PSToolState.REACH_M],
## shows a preview sphere of the current radius at the aim point, and on [method apply]
## builds an EDIT_REQUEST for that point (world coordinates through [member origin]) and
## hands it to the network owner node [member net].
##
## Input nodes drive it ([PSVrToolInput], [PSDesktopToolInput]); the network layer reports
## the server's answer through [method resolve]. Haptics and the canister display listen
## to the signals.

## An edit request was built and handed to the network layer: the fields of EDIT_REQUEST
## ([method PSToolState.build_request]) plus [code]scene_point[/code] (Vector3).
signal edit_requested(request: Dictionary)
## The server answered request [param seq] (EDIT_RESULT).
signal edit_resolved(seq: int, accepted: bool, reason: int, soil_delta: int, soil_total: int)
## Play haptic pattern [param kind]: [constant HAPTIC_APPLY] or [constant HAPTIC_REJECT].
signal haptic_requested(kind: StringName)
## The tool started or stopped aiming at terrain.
signal aim_changed(valid: bool)
## The canisters' soil changed: units per canister slot.
signal soil_changed(canisters: PackedInt32Array)

const HAPTIC_APPLY := &"apply"
const HAPTIC_REJECT := &"reject"
## Physics layers the aim ray hits by default (the terrain's bodies are on layer 1).
const DEFAULT_MASK := 1
## Preview colours per mode (excavate, elevate, flatten).
const MODE_COLOURS: Array[Color] = [
	Color(1.0, 0.45, 0.2, 0.35), Color(0.3, 0.9, 0.35, 0.35), Color(0.35, 0.6, 1.0, 0.35)
]
## Reject reason sent by no server: the tool had nothing to aim at or no connection.
const REASON_LOCAL_NO_AIM := 254
const REASON_LOCAL_OFFLINE := 255

## Physics layers of the terrain's collision.
@export_flags_3d_physics var collision_mask := DEFAULT_MASK
## Radius change per second at full thumbstick deflection.
@export_range(0.1, 10.0, 0.1, "suffix:m/s") var radius_speed := 2.0
## Canister capacity in soil units (server/world/types.py canister_capacity).
@export_range(1, 1000000, 1) var canister_capacity := 16000

## Mode, radius and sequence numbers.
var state := PSToolState.new()
## Scene to world conversion (the terrain streamer's floating origin); null means scene
## coordinates are world coordinates.
var origin: PSFloatingOrigin
## The network owner node; see [method _send]. Null: offline (requests are only emitted).
var net: Node
## True when the ray hits terrain within reach.
var aim_valid := false
## Scene-space aim point and surface normal (valid when [member aim_valid]).
var aim_point := Vector3.ZERO
var aim_normal := Vector3.UP
## Requests sent and not yet answered: seq -> request.
var pending := {}
## Soil units per canister slot, as last reported by the server.
var canisters := PackedInt32Array()

@onready var preview: MeshInstance3D = $Preview


func _ready() -> void:
	preview.top_level = true
	preview.visible = false
	state.changed.connect(_update_preview)
	_update_preview()


func _physics_process(_delta: float) -> void:
	update_aim()


## Cast the aim ray now; returns [member aim_valid].
func update_aim() -> bool:
	var from := global_position
	var to := from - global_basis.z.normalized() * PSToolState.REACH_M
	var query := PhysicsRayQueryParameters3D.create(from, to, collision_mask)
	query.hit_back_faces = false
	var hit := get_world_3d().direct_space_state.intersect_ray(query)
	var valid := not hit.is_empty()
	if valid:
		aim_point = hit["position"]
		aim_normal = hit["normal"]
	if valid != aim_valid:
		aim_valid = valid
		aim_changed.emit(valid)
	_update_preview()
	return aim_valid


## Apply the current mode at the aim point: build and send the edit request. Returns the
## request, or an empty dictionary (with a rejection haptic) when nothing is aimed at.
func apply() -> Dictionary:
	if not aim_valid:
		haptic_requested.emit(HAPTIC_REJECT)
		return {}
	var request := state.build_request(to_world(aim_point))
	if request.is_empty():
		haptic_requested.emit(HAPTIC_REJECT)
		return {}
	request["scene_point"] = aim_point
	var seq := _send(request)
	if seq < 0:
		haptic_requested.emit(HAPTIC_REJECT)
		edit_requested.emit(request)
		return request
	request["seq"] = seq
	pending[seq] = request
	haptic_requested.emit(HAPTIC_APPLY)
	edit_requested.emit(request)
	return request


## The server's EDIT_RESULT for [param seq]: a rejection plays the rejection haptic;
## [param soil_total] updates the canisters (filled slot by slot).
func resolve(seq: int, accepted: bool, reason: int, soil_delta: int, soil_total: int) -> void:
	pending.erase(seq)
	if not accepted:
		haptic_requested.emit(HAPTIC_REJECT)
	set_soil_total(soil_total)
	edit_resolved.emit(seq, accepted, reason, soil_delta, soil_total)


## Soil per canister slot (JOIN_ACCEPTED's list).
func set_canisters(units: PackedInt32Array) -> void:
	canisters = units.duplicate()
	soil_changed.emit(canisters)


## Spread a soil total over the canister slots in order (the server fills slot by slot).
func set_soil_total(total: int) -> void:
	var n := maxi(canisters.size(), 1)
	var out := PackedInt32Array()
	out.resize(n)
	var left := maxi(total, 0)
	for i in n:
		var take := mini(left, canister_capacity) if i < n - 1 else left
		out[i] = take
		left -= take
	set_canisters(out)


## World position (metres from the planet's centre, float64) of scene point [param p].
func to_world(p: Vector3) -> PackedFloat64Array:
	if origin != null:
		return origin.scene_to_world(p)
	return PackedFloat64Array([p.x, p.y, p.z])


## Hand [param request] to [member net] ([code]request_edit(mode, centre, radius) -> seq[/code],
## as [PSNetSession] and [PSNetClient] have); returns the sequence number it used, or -1 when
## offline or not sent.
func _send(request: Dictionary) -> int:
	if net == null or not is_instance_valid(net):
		return -1
	if not net.has_method(&"request_edit"):
		push_warning("terrain tool: %s has no request_edit()" % net)
		return -1
	var centre: PackedFloat64Array = request["centre"]
	var seq: Variant = net.call(&"request_edit", request["mode"], centre, request["radius"])
	return seq if seq is int else -1


func _update_preview() -> void:
	if preview == null:
		return
	preview.visible = aim_valid
	if not aim_valid:
		return
	preview.global_transform = Transform3D(
		Basis.from_scale(Vector3.ONE * state.radius_m), aim_point
	)
	var mat := preview.material_override as StandardMaterial3D
	if mat != null:
		mat.albedo_color = MODE_COLOURS[int(state.mode)]
