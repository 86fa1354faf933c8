class_name PSXrLocomotion
extends PSXrMovementProvider
## Walking on the planet with the thumbstick: moves the origin along the ground in the
## direction the head looks (projected onto the local horizontal plane), keeps the
## origin's up pointing away from the planet's centre and its feet on the terrain (a ray
## towards the centre against the terrain's collision).

## Walking speed at full deflection.
@export_range(0.1, 10.0, 0.1, "suffix:m/s") var speed := 2.0
## Physics layers of the terrain.
@export_flags_3d_physics var ground_mask := 1
## Ground is looked for this far above and below the feet.
@export_range(0.1, 10.0, 0.1, "suffix:m") var step_height := 1.0
@export_range(0.1, 50.0, 0.1, "suffix:m") var max_drop := 6.0
## Follow the ground (disable for tests without terrain).
@export var follow_ground := true


func _physics_process(delta: float) -> void:
	if not enabled or origin == null:
		return
	align_up()
	var v := stick()
	if v != Vector2.ZERO:
		origin.global_position += move_vector(v, delta)
	if follow_ground:
		snap_to_ground()


## Turn the origin so its Y axis is the local up, with the smallest rotation.
func align_up() -> void:
	var up := up_at(origin.global_position)
	var cur := origin.global_basis.y.normalized()
	var axis := cur.cross(up)
	if axis.length_squared() < 1e-12:
		return
	var q := Quaternion(axis.normalized(), cur.angle_to(up))
	origin.global_basis = (Basis(q) * origin.global_basis).orthonormalized()


## Scene-space displacement for stick [param v] over [param delta] seconds: forward is the
## head's view direction flattened onto the plane normal to up.
func move_vector(v: Vector2, delta: float) -> Vector3:
	var up := up_at(origin.global_position)
	var basis := camera.global_basis if camera != null else origin.global_basis
	var forward := -basis.z
	forward = forward - up * forward.dot(up)
	if forward.length_squared() < 1e-6:
		forward = basis.y - up * basis.y.dot(up)
	forward = forward.normalized()
	var right := forward.cross(up).normalized()
	return (forward * v.y + right * v.x) * speed * delta


## Put the origin on the terrain below it (towards the planet's centre); false when no
## ground was found (e.g. not loaded yet).
func snap_to_ground() -> bool:
	var p := origin.global_position
	var up := up_at(p)
	var query := PhysicsRayQueryParameters3D.create(
		p + up * step_height, p - up * max_drop, ground_mask
	)
	var hit := origin.get_world_3d().direct_space_state.intersect_ray(query)
	if hit.is_empty():
		return false
	origin.global_position = hit["position"]
	return true
