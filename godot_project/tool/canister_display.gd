class_name PSCanisterDisplay
extends Node3D
## Soil canisters with their fill, worn on the off hand (VR) or shown in a corner of the
## view (desktop): one glass cylinder per canister slot with a brown core whose height is
## the fill, and a label with the total in m^3 (16 soil units = one 0.5 m voxel = 1/8 m^3,
## docs/terrain.md).

## Soil units per cubic metre (1 unit = 1/16 voxel of 0.125 m^3).
const UNITS_PER_M3 := 128.0

## Units one canister holds (server/world/types.py canister_capacity).
@export_range(1, 1000000, 1) var capacity := 16000
## Size of one canister.
@export_range(0.01, 1.0, 0.01, "suffix:m") var canister_radius := 0.025
@export_range(0.02, 1.0, 0.01, "suffix:m") var canister_height := 0.1

var _fills: Array[MeshInstance3D] = []
var _label: Label3D
var _units := PackedInt32Array()


func _ready() -> void:
	_label = Label3D.new()
	_label.pixel_size = 0.0006
	_label.font_size = 32
	_label.billboard = BaseMaterial3D.BILLBOARD_ENABLED
	_label.position = Vector3(0, canister_height * 0.5 + 0.03, 0)
	add_child(_label)
	show_soil(PackedInt32Array([0, 0]))


## Show [param units] soil units per canister slot.
func show_soil(units: PackedInt32Array) -> void:
	_units = units.duplicate()
	while _fills.size() < units.size():
		_add_canister(_fills.size())
	var total := 0
	for i in _fills.size():
		var f := fill_fraction(units[i] if i < units.size() else 0)
		_fills[i].visible = i < units.size() and f > 0.0
		_fills[i].scale = Vector3(1.0, maxf(f, 0.001), 1.0)
		_fills[i].position.y = -canister_height * 0.5 * (1.0 - f)
		(_fills[i].get_parent() as Node3D).visible = i < units.size()
		if i < units.size():
			total += units[i]
	_label.text = "%.2f m³" % (total / UNITS_PER_M3)


## Fill of one canister holding [param units], in [0, 1].
func fill_fraction(units: int) -> float:
	return clampf(float(units) / float(capacity), 0.0, 1.0)


## The units last shown per slot.
func shown_units() -> PackedInt32Array:
	return _units


func _add_canister(i: int) -> void:
	var glass := MeshInstance3D.new()
	var shell := CylinderMesh.new()
	shell.top_radius = canister_radius
	shell.bottom_radius = canister_radius
	shell.height = canister_height
	glass.mesh = shell
	var glass_mat := StandardMaterial3D.new()
	glass_mat.transparency = BaseMaterial3D.TRANSPARENCY_ALPHA
	glass_mat.albedo_color = Color(0.8, 0.9, 1.0, 0.25)
	glass.material_override = glass_mat
	glass.position = Vector3((i - 0.5) * canister_radius * 2.6, 0, 0)
	add_child(glass)
	var fill := MeshInstance3D.new()
	var core := CylinderMesh.new()
	core.top_radius = canister_radius * 0.85
	core.bottom_radius = canister_radius * 0.85
	core.height = canister_height * 0.98
	fill.mesh = core
	var soil_mat := StandardMaterial3D.new()
	soil_mat.albedo_color = Color(0.45, 0.3, 0.16)
	fill.material_override = soil_mat
	glass.add_child(fill)
	_fills.append(fill)
