class_name PSXrTurning
extends PSXrMovementProvider
## Turning with the thumbstick's x axis: snap turns of [member snap_angle_deg] (the stick
## must return to the centre before the next one) or smooth turning at
## [member smooth_speed_deg].

enum Style { SNAP, SMOOTH }

@export var style := Style.SNAP
@export_range(5.0, 90.0, 5.0, "suffix:°") var snap_angle_deg := 30.0
@export_range(10.0, 360.0, 5.0, "suffix:°/s") var smooth_speed_deg := 90.0
## Deflection that triggers a snap turn.
@export_range(0.3, 1.0, 0.05) var snap_threshold := 0.7

var _armed := true


func _physics_process(delta: float) -> void:
	if not enabled or origin == null:
		return
	var angle := turn_angle(stick().x, delta)
	if angle != 0.0:
		turn(angle)


## The rotation in radians (positive = to the left, counter-clockwise about up) for stick
## x value [param x] over [param delta] seconds; updates the snap re-arm state.
func turn_angle(x: float, delta: float) -> float:
	if style == Style.SMOOTH:
		return -x * deg_to_rad(smooth_speed_deg) * delta
	if absf(x) < snap_threshold * 0.5:
		_armed = true
		return 0.0
	if _armed and absf(x) >= snap_threshold:
		_armed = false
		return -signf(x) * deg_to_rad(snap_angle_deg)
	return 0.0
