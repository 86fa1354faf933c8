class_name PSXrMovementProvider
extends Node
## Base of the rig's movement nodes ([PSXrLocomotion], [PSXrTurning]): a child of the
## [XROrigin3D] that reads one controller's thumbstick. "Up" is away from the planet's
## centre, given by [member up_source] (the terrain's floating origin), so the rig walks
## on a sphere.

## Thumbstick deflection below this is ignored.
@export_range(0.0, 0.9, 0.05) var deadzone := 0.2
## The controller whose thumbstick drives this provider.
@export var controller_path: NodePath
## The XR camera (the player's head).
@export var camera_path: NodePath
## The thumbstick action in the action map.
@export var stick_action := &"primary"
## When false the provider does nothing.
@export var enabled := true

## Callable(scene_point: Vector3) -> Vector3, the unit up at that point; unset: +Y.
var up_source: Callable
## The stick value used instead of the controller's when not NaN (tests, bots).
var stick_override := Vector2(NAN, NAN)

@onready var origin: XROrigin3D = get_parent() as XROrigin3D
@onready var controller: XRController3D = get_node_or_null(controller_path) as XRController3D
@onready var camera: XRCamera3D = get_node_or_null(camera_path) as XRCamera3D


func _get_configuration_warnings() -> PackedStringArray:
	if not get_parent() is XROrigin3D:
		return PackedStringArray(["A movement provider must be a child of an XROrigin3D."])
	return PackedStringArray()


## The thumbstick with the deadzone removed and rescaled to [0, 1] in length.
func stick() -> Vector2:
	var v := stick_override
	if is_nan(v.x):
		v = controller.get_vector2(stick_action) if controller != null else Vector2.ZERO
	return apply_deadzone(v, deadzone)


static func apply_deadzone(v: Vector2, zone: float) -> Vector2:
	var l := v.length()
	if l <= zone:
		return Vector2.ZERO
	return v / l * minf((l - zone) / (1.0 - zone), 1.0)


## Unit up at scene point [param p].
func up_at(p: Vector3) -> Vector3:
	if up_source.is_valid():
		return up_source.call(p)
	return Vector3.UP


## The head's scene position (the origin's when there is no camera).
func head_position() -> Vector3:
	return camera.global_position if camera != null else origin.global_position


## Rotate the origin by [param angle] radians about the up axis through the head, so the
## head stays where it is.
func turn(angle: float) -> void:
	var pivot := head_position()
	var up := up_at(pivot)
	var t := origin.global_transform
	t.origin -= pivot
	t = Transform3D(Basis(up, angle), Vector3.ZERO) * t
	t.origin += pivot
	origin.global_transform = t.orthonormalized()
