class_name PSFreeFlyCamera
extends Camera3D
## Desktop free-fly camera for the spectator on a curved planet: WASD to move, E / Space up,
## Q / Ctrl down, Shift faster, hold the right mouse button (or Escape toggles) to look
## around. "Up" is radial, from [member up_source] (the terrain's floating origin), so the
## horizon stays level anywhere on the planet.
##
## Actions (added to the InputMap if the project does not define them): ps_move_forward,
## ps_move_back, ps_move_left, ps_move_right, ps_move_up, ps_move_down, ps_move_fast.

const DEFAULT_KEYS := {
	&"ps_move_forward": [KEY_W, KEY_UP],
	&"ps_move_back": [KEY_S, KEY_DOWN],
	&"ps_move_left": [KEY_A, KEY_LEFT],
	&"ps_move_right": [KEY_D, KEY_RIGHT],
	&"ps_move_up": [KEY_E, KEY_SPACE],
	&"ps_move_down": [KEY_Q, KEY_CTRL],
	&"ps_move_fast": [KEY_SHIFT],
}

## Flying speed.
@export_range(0.5, 200.0, 0.5, "suffix:m/s") var speed := 12.0
## Speed factor while ps_move_fast is held.
@export_range(1.0, 20.0, 0.5) var fast_factor := 5.0
## Mouse look sensitivity.
@export_range(0.0005, 0.02, 0.0005, "suffix:rad/px") var mouse_sensitivity := 0.003
## Returns the unit up vector at a scene position (Vector3 -> Vector3); +Y if unset.
var up_source: Callable
## When false (following a player), input is ignored.
var controls_enabled := true

var _forward := Vector3.FORWARD
var _looking := false


static func ensure_actions() -> void:
	for action: StringName in DEFAULT_KEYS:
		if InputMap.has_action(action):
			continue
		InputMap.add_action(action)
		for key: int in DEFAULT_KEYS[action]:
			var ev := InputEventKey.new()
			ev.physical_keycode = key
			InputMap.action_add_event(action, ev)


func _ready() -> void:
	ensure_actions()
	_forward = -global_basis.z


## Current up vector at the camera.
func up() -> Vector3:
	if up_source.is_valid():
		return up_source.call(global_position)
	return Vector3.UP


## Look along [param direction] (scene space), keeping the planet's up.
func look_along(direction: Vector3) -> void:
	if direction.length_squared() < 1e-8:
		return
	_forward = direction.normalized()
	_orient()


func _unhandled_input(event: InputEvent) -> void:
	if not controls_enabled:
		return
	if event is InputEventMouseButton and event.button_index == MOUSE_BUTTON_RIGHT:
		_set_looking(event.pressed)
	elif event is InputEventKey and event.pressed and event.keycode == KEY_ESCAPE:
		_set_looking(not _looking)
	elif event is InputEventMouseMotion and _looking:
		var motion := (event as InputEventMouseMotion).relative
		var u := up()
		_forward = _forward.rotated(u, -motion.x * mouse_sensitivity)
		var right := _forward.cross(u).normalized()
		var pitched := _forward.rotated(right, -motion.y * mouse_sensitivity)
		# keep away from straight up / down
		if absf(pitched.normalized().dot(u)) < 0.98:
			_forward = pitched
		_orient()


func _set_looking(on: bool) -> void:
	_looking = on
	if DisplayServer.get_name() != "headless":
		Input.mouse_mode = Input.MOUSE_MODE_CAPTURED if on else Input.MOUSE_MODE_VISIBLE


func _process(delta: float) -> void:
	if not controls_enabled:
		return
	var u := up()
	var right := _forward.cross(u).normalized()
	var move := Vector3.ZERO
	move += _forward * Input.get_axis(&"ps_move_back", &"ps_move_forward")
	move += right * Input.get_axis(&"ps_move_left", &"ps_move_right")
	move += u * Input.get_axis(&"ps_move_down", &"ps_move_up")
	var v := speed * (fast_factor if Input.is_action_pressed(&"ps_move_fast") else 1.0)
	if move != Vector3.ZERO:
		global_position += move.normalized() * v * delta
	_orient()


func _orient() -> void:
	var u := up()
	if absf(_forward.dot(u)) > 0.999:
		return
	look_at(global_position + _forward, u)
