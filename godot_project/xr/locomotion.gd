class_name PSXrLocomotion
extends PSXrMovementProvider
## Walking on the planet with the thumbstick: moves the origin along the ground in the
## direction the head looks (projected onto the local horizontal plane), keeps the
## origin's up pointing away from the planet's centre and its feet on the terrain (a ray
## towards the centre against the terrain's collision), and pushes it out of the terrain
## when an edit buried its feet (see [method push_out]).

## Walking speed at full deflection.
@export_range(0.1, 10.0, 0.1, "suffix:m/s") var speed := 2.0
## Physics layers of the terrain.
@export_flags_3d_physics var ground_mask := 1
## Ground is looked for this far above and below the feet.
@export_range(0.1, 10.0, 0.1, "suffix:m") var step_height := 1.0
@export_range(0.1, 50.0, 0.1, "suffix:m") var max_drop := 6.0
## Follow the ground (disable for tests without terrain).
@export var follow_ground := true
## Push-out: the feet count as buried when the density this far above them (along the local
## up) is solid. Keeps normal walking alone: the collision mesh may sit a little inside the
## density's surface (at most about half a voxel, 0.25 m).
@export_range(0.05, 1.0, 0.05, "suffix:m") var push_out_probe := 0.25
## Push-out: the surface is searched upward in steps of this length...
@export_range(0.05, 0.5, 0.05, "suffix:m") var push_out_step := 0.1
## ... up to this far above the feet (twice the tool's largest radius: a fill sphere
## centred at the feet).
@export_range(0.5, 20.0, 0.5, "suffix:m") var push_out_max := 8.0
## Push-out: the feet are put this far above the surface found.
@export_range(0.0, 0.5, 0.01, "suffix:m") var push_out_clearance := 0.05

## Callable(scene_point: Vector3) -> float, the terrain's density there in voxel units
## (solid > 0, about 32 units per metre; NAN = unknown), e.g.
## [method PSChunkStore.sample_density]; unset: no push-out.
var density_source: Callable


func _physics_process(delta: float) -> void:
	if not enabled or origin == null:
		return
	align_up()
	var v := stick()
	if v != Vector2.ZERO:
		origin.global_position += move_vector(v, delta)
	if follow_ground:
		snap_to_ground()
	# after the snap: until a buried spot's new collision is built the ray may still find
	# the old surface under the new soil
	push_out()


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


## When an edit (elevate / fill) buried the feet, lift the origin onto the new surface.
## Rule: if [member density_source] is solid (> 0) at [member push_out_probe] metres above
## the feet along the local up (away from the planet's centre), sample upward every
## [member push_out_step] metres up to [member push_out_max]; at the first air sample put
## the feet [member push_out_clearance] metres above the surface (the zero of the density,
## interpolated between the last solid and the first air sample). Nothing moves when the
## probe is air or unknown (NAN), or no air is found within reach. One density sample per
## physics frame while nothing is buried. The rig has no velocity of its own (it is moved
## kinematically), so there is no fall speed to cancel. Returns true when it moved.
func push_out() -> bool:
	if not density_source.is_valid() or origin == null:
		return false
	var feet := origin.global_position
	var up := up_at(feet)
	var prev_h := push_out_probe
	var prev_d: float = density_source.call(feet + up * prev_h)
	if not prev_d > 0.0:  # air or NAN
		return false
	var h := prev_h
	while h < push_out_max:
		h = minf(h + push_out_step, push_out_max)
		var d: float = density_source.call(feet + up * h)
		if is_nan(d):
			return false
		if d <= 0.0:
			var surface := lerpf(prev_h, h, prev_d / (prev_d - d))
			origin.global_position = feet + up * (surface + push_out_clearance)
			return true
		prev_h = h
		prev_d = d
	return false
