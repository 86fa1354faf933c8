class_name PSVrToolInput
extends Node
## The dominant hand's controller onto the terrain tool: pulling the trigger applies the
## current mode at the aim point, the thumbstick's y axis changes the radius, the face
## button (A / X, menu on Vive and the simple controller) cycles the mode. Plays the
## tool's haptic patterns on this controller. A child of the [XRController3D].

## Emitted for every trigger pull (before the tool applies), for logs and tests.
signal trigger_pulled(value: float)

## Trigger value that counts as pulled, and the value it must fall below to re-arm.
@export_range(0.1, 1.0, 0.05) var press_threshold := 0.7
@export_range(0.0, 0.9, 0.05) var release_threshold := 0.3
## Thumbstick y below this deflection does not change the radius.
@export_range(0.0, 0.9, 0.05) var radius_deadzone := 0.3
## Actions of the project's action map (res://openxr_action_map.tres).
@export var trigger_action := &"trigger"
@export var stick_action := &"primary"
@export var mode_action := &"mode_cycle"
@export var haptic_action := &"haptic"
@export var tool_path: NodePath

var tool: PSTerrainTool
var _pulled := false

@onready var controller: XRController3D = get_parent() as XRController3D


func _ready() -> void:
	if tool == null and not tool_path.is_empty():
		tool = get_node_or_null(tool_path) as PSTerrainTool
	if controller != null:
		controller.button_pressed.connect(_on_button_pressed)
	if tool != null:
		tool.haptic_requested.connect(play_haptic)


func _get_configuration_warnings() -> PackedStringArray:
	if not get_parent() is XRController3D:
		return PackedStringArray(["PSVrToolInput must be a child of an XRController3D."])
	return PackedStringArray()


func _physics_process(delta: float) -> void:
	if controller == null or tool == null:
		return
	var y := controller.get_vector2(stick_action).y
	if absf(y) > radius_deadzone:
		var r := signf(y) * (absf(y) - radius_deadzone) / (1.0 - radius_deadzone)
		tool.state.change_radius(r * tool.radius_speed, delta)
	handle_trigger(controller.get_float(trigger_action))


## Feed one trigger reading; applies the tool on the rising edge (with hysteresis).
## Returns true when it applied.
func handle_trigger(value: float) -> bool:
	if _pulled:
		if value < release_threshold:
			_pulled = false
		return false
	if value < press_threshold:
		return false
	_pulled = true
	trigger_pulled.emit(value)
	tool.update_aim()
	tool.apply()
	return true


## Play the tool's haptic pattern [param kind] on this controller: a short light pulse
## when an edit is sent, a long strong low one when it is rejected.
func play_haptic(kind: StringName) -> void:
	if controller == null:
		return
	if kind == PSTerrainTool.HAPTIC_REJECT:
		controller.trigger_haptic_pulse(haptic_action, 60.0, 1.0, 0.12, 0.0)
		controller.trigger_haptic_pulse(haptic_action, 60.0, 1.0, 0.12, 0.2)
	else:
		controller.trigger_haptic_pulse(haptic_action, 180.0, 0.4, 0.04, 0.0)


func _on_button_pressed(action: String) -> void:
	if action == mode_action and tool != null:
		tool.state.cycle_mode()
