extends PSTestCase
## Push-out: when an elevate (fill) edit buries the VR rig's feet, the locomotion lifts the
## rig onto the new surface along the local up within a physics step, and leaves it alone
## while it walks on the surface. On the analytic 40 m sphere, voxels in a
## [PSChunkStore] sampled with [method PSChunkStore.sample_density] (no collision shapes:
## the new soil's collision is not built yet, as right after a real edit).

const VrScene := preload("res://xr/vr_main.tscn")
const RADIUS := 40.0
## The feet's direction from the planet's centre (not an axis: up is tilted in the scene).
const DIR := Vector3(1.0, 0.6, 0.3)

var _store: PSChunkStore
var _origin: PSFloatingOrigin
var _rig: XROrigin3D
var _loco: PSXrLocomotion


func before_each() -> void:
	var source := PSSphereChunkSource.create(RADIUS)
	var feet_world := DIR.normalized() * RADIUS
	_origin = PSFloatingOrigin.new()
	_origin.origin_chunk = Vector3i((feet_world / PSFloatingOrigin.CHUNK_M).floor())
	_store = PSChunkStore.new()
	for c in PSChunkStore.neighbourhood(_origin.origin_chunk):
		_store.put_generated(c, source.generate(c))
	_rig = XROrigin3D.new()
	add_child(_rig)
	_loco = PSXrLocomotion.new()
	_loco.follow_ground = false  # no collision shapes here: only the push-out moves it
	_rig.add_child(_loco)
	_loco.up_source = _origin.up_at
	_loco.density_source = func(p: Vector3) -> float:
		return _store.sample_density(_origin.origin_chunk, p, -127.0)
	_rig.global_position = _origin.world_to_scene(feet_world)
	_loco.align_up()


func after_each() -> void:
	_rig.queue_free()
	await get_tree().process_frame


func _physics_steps(n: int) -> void:
	for i in n:
		await get_tree().physics_frame


func _density(p: Vector3) -> float:
	return _store.sample_density(_origin.origin_chunk, p)


func test_sample_density_is_the_trilinear_field_in_scene_space() -> void:
	var feet := _rig.global_position
	var up := _origin.up_at(feet)
	assert_almost_eq(_density(feet), 0.0, 2.0, "zero on the sphere's surface")
	assert_almost_eq(_density(feet - up), 32.0, 2.0, "32 units per metre inside")
	assert_almost_eq(_density(feet + up), -32.0, 2.0, "negative in the air")
	var far := Vector3(1000, 1000, 1000)
	assert_true(is_nan(_density(far)), "no chunk there: NAN")
	assert_eq(_store.sample_density(_origin.origin_chunk, far, -127.0), -127.0)


func test_walking_on_the_surface_is_left_alone() -> void:
	var up := _origin.up_at(_rig.global_position)
	var on_surface := _rig.global_position
	await _physics_steps(3)
	assert_almost_eq(_rig.global_position.distance_to(on_surface), 0.0, 1e-5, "on the surface")
	# the collision mesh may sit a little inside the density's surface
	var slightly_in := on_surface - up * 0.15
	_rig.global_position = slightly_in
	await _physics_steps(3)
	assert_almost_eq(_rig.global_position.distance_to(slightly_in), 0.0, 1e-5, "0.15 m in")


func test_elevate_at_the_feet_lifts_the_rig_onto_the_new_surface() -> void:
	var feet := _rig.global_position
	var up := _origin.up_at(feet)
	# elevate: fill a 2 m sphere centred at the feet; its top, 2 m above them, is the surface
	var world := feet + Vector3(_origin.origin_chunk) * PSFloatingOrigin.CHUNK_M
	var deltas := PSTerrainEdits.sphere(_store, world, 2.0, true, PSGenConstants.STONE)
	assert_false(deltas.is_empty())
	for c: Vector3i in deltas:
		var e: Array = deltas[c]
		_store.apply_delta(
			c, PackedInt32Array(e[0]), PackedByteArray(e[1]), PackedByteArray(e[2])
		)
	assert_true(_density(feet + up * 1.5) > 0.0, "the feet are buried")
	await _physics_steps(2)
	var moved := _rig.global_position - feet
	var lift := moved.dot(up)
	assert_true(lift > 1.9 and lift < 2.3, "lifted onto the new surface along up: %s m" % lift)
	assert_almost_eq((moved - up * lift).length(), 0.0, 1e-3, "straight up, no sideways move")
	var now := _rig.global_position
	assert_true(_density(now) <= 0.0, "feet in the air")
	assert_true(_density(now - up * 0.3) > 0.0, "just above the surface")
	# and it stays there: no fighting once out
	await _physics_steps(2)
	assert_almost_eq(_rig.global_position.distance_to(now), 0.0, 1e-5, "stays put")


func test_deep_burial_out_of_reach_is_left_alone() -> void:
	_loco.push_out_max = 1.0
	var feet := _rig.global_position
	var world := feet + Vector3(_origin.origin_chunk) * PSFloatingOrigin.CHUNK_M
	var deltas := PSTerrainEdits.sphere(_store, world, 3.0, true, PSGenConstants.STONE)
	for c: Vector3i in deltas:
		var e: Array = deltas[c]
		_store.apply_delta(
			c, PackedInt32Array(e[0]), PackedByteArray(e[1]), PackedByteArray(e[2])
		)
	assert_false(_loco.push_out(), "no air within 1 m: no move")
	assert_almost_eq(_rig.global_position.distance_to(feet), 0.0, 1e-5)


func test_vr_scene_wires_the_terrain_density() -> void:
	var vr: PSVrMain = VrScene.instantiate()
	add_child(vr)
	assert_true(vr.locomotion.density_source.is_valid(), "locomotion samples the terrain")
	var far := Vector3(5000, 5000, 5000)
	assert_eq(vr.terrain_density(far), -127.0, "chunks not stored count as air")
	vr.queue_free()
	await get_tree().process_frame
