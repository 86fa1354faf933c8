class_name PSDesktopToolInput
extends Node
## Mouse and keyboard onto the terrain tool, for the desktop spectator: the tool aims
## from the camera through the mouse cursor (or the screen centre while the mouse is
## captured for looking around). Left click applies, the mouse wheel (or [ and ]) changes
## the radius, M cycles the mode, 1 / 2 / 3 pick excavate / elevate / flatten.
##
## The spectator instances this node with [member tool] and [member camera] set (or the
## paths); it works with any [Camera3D].

const RADIUS_STEP_M := 0.25
const ACTION_KEYS := {
	&"ps_tool_apply": [],
	&"ps_tool_cycle_mode": [KEY_M],
	&"ps_tool_radius_up": [KEY_BRACKETRIGHT],
	&"ps_tool_radius_down": [KEY_BRACKETLEFT],
	&"ps_tool_excavate": [KEY_1],
	&"ps_tool_elevate": [KEY_2],
	&"ps_tool_flatten": [KEY_3],
}

@export var tool_path: NodePath
@export var camera_path: NodePath

var tool: PSTerrainTool
var camera: Camera3D


## Add the tool's input actions with their default keys (left click applies) unless the
## project defines them.
static func ensure_actions() -> void:
	for action: StringName in ACTION_KEYS:
		if InputMap.has_action(action):
			continue
		InputMap.add_action(action)
		for key: int in ACTION_KEYS[action]:
			var ev := InputEventKey.new()
			ev.physical_keycode = key
			InputMap.action_add_event(action, ev)
	if InputMap.action_get_events(&"ps_tool_apply").is_empty():
		var click := InputEventMouseButton.new()
		click.button_index = MOUSE_BUTTON_LEFT
		InputMap.action_add_event(&"ps_tool_apply", click)


func _ready() -> void:
	ensure_actions()
	if tool == null and not tool_path.is_empty():
		tool = get_node_or_null(tool_path) as PSTerrainTool
	if camera == null and not camera_path.is_empty():
		camera = get_node_or_null(camera_path) as Camera3D


func _get_configuration_warnings() -> PackedStringArray:
	if tool_path.is_empty() or camera_path.is_empty():
		return PackedStringArray(["Set tool_path (a PSTerrainTool) and camera_path (a Camera3D)."])
	return PackedStringArray()


func _physics_process(_delta: float) -> void:
	if tool == null or camera == null:
		return
	aim_through(_cursor())


## Place the tool at the camera, aiming through viewport point [param screen_point].
func aim_through(screen_point: Vector2) -> void:
	var from := camera.project_ray_origin(screen_point)
	var dir := camera.project_ray_normal(screen_point)
	var up := camera.global_basis.y
	if absf(dir.dot(up)) > 0.999:
		up = camera.global_basis.z
	tool.global_transform = Transform3D(Basis.looking_at(dir, up), from)


func _unhandled_input(event: InputEvent) -> void:
	if tool == null:
		return
	if event is InputEventMouseButton and event.pressed:
		var mb := event as InputEventMouseButton
		if mb.button_index == MOUSE_BUTTON_WHEEL_UP:
			tool.state.set_radius(tool.state.radius_m + RADIUS_STEP_M)
			return
		if mb.button_index == MOUSE_BUTTON_WHEEL_DOWN:
			tool.state.set_radius(tool.state.radius_m - RADIUS_STEP_M)
			return
	if event.is_action_pressed(&"ps_tool_apply"):
		if camera != null:
			aim_through(_cursor())
		tool.update_aim()
		tool.apply()
	elif event.is_action_pressed(&"ps_tool_cycle_mode"):
		tool.state.cycle_mode()
	elif event.is_action_pressed(&"ps_tool_radius_up"):
		tool.state.set_radius(tool.state.radius_m + RADIUS_STEP_M)
	elif event.is_action_pressed(&"ps_tool_radius_down"):
		tool.state.set_radius(tool.state.radius_m - RADIUS_STEP_M)
	elif event.is_action_pressed(&"ps_tool_excavate"):
		tool.state.set_mode(PSToolState.Mode.EXCAVATE)
	elif event.is_action_pressed(&"ps_tool_elevate"):
		tool.state.set_mode(PSToolState.Mode.ELEVATE)
	elif event.is_action_pressed(&"ps_tool_flatten"):
		tool.state.set_mode(PSToolState.Mode.FLATTEN)


func _cursor() -> Vector2:
	var vp := camera.get_viewport()
	if Input.mouse_mode == Input.MOUSE_MODE_CAPTURED:
		return vp.get_visible_rect().size * 0.5
	return vp.get_mouse_position()
