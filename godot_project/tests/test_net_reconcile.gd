extends PSTestCase
## Edit prediction and reconciliation (res://net/edit_predictor.gd) on a flat test terrain:
## a predicted edit shows at once; a rejected one is undone exactly (also under another
## pending edit); an accepted one stays until the server's voxels of the named version
## arrive, which then replace it.

const P := preload("res://net/protocol.gd")
const GROUND_M := 8.0

var _store: PSChunkStore
var _original: Dictionary = {}


func before_each() -> void:
	_store = PSChunkStore.new()
	_original.clear()
	for cx in range(0, 2):
		for cy in range(0, 1):
			for cz in range(0, 2):
				var c := Vector3i(cx, cy, cz)
				var chunk := _flat_chunk(c)
				_store.put_generated(c, chunk)
				_original[c] = [chunk.density.duplicate(), chunk.material.duplicate()]


## Ground below y = 8 m: density Q(8 - y), material 1 where solid.
static func _flat_chunk(c: Vector3i) -> PSChunkData:
	var d := PackedByteArray()
	var m := PackedByteArray()
	d.resize(32768)
	m.resize(32768)
	for x in 32:
		for y in 32:
			var q := PSEditPredictor.quantize(GROUND_M - float(c.y * 32 + y) * 0.5)
			for z in 32:
				var i := (x * 32 + y) * 32 + z
				d[i] = q & 0xFF
				m[i] = 1 if q > 0 else 0
	return PSChunkData.from_arrays(c, d, m)


func _voxels(c: Vector3i) -> Array:
	var ch := _store.get_chunk(c)
	return [ch.density, ch.material]


func _centre() -> PackedFloat64Array:
	return PackedFloat64Array([16.0, 7.5, 16.0])  # on the corner of four chunks


func test_prediction_changes_the_voxels_at_once() -> void:
	var changed := PSEditPredictor.new(_store).predict(1, P.EditMode.EXCAVATE, _centre(), 1.5)
	assert_eq(changed.size(), 4, "four chunks meet at the centre")
	for c: Vector3i in changed:
		assert_ne(_voxels(c), _original[c], "chunk %s dug" % c)


func test_rejected_edit_restores_the_voxels_exactly() -> void:
	var pr := PSEditPredictor.new(_store)
	var rejected: Array = []
	pr.edit_rejected.connect(
		func(seq: int, reason: int, text: String) -> void: rejected.append([seq, reason, text])
	)
	pr.predict(7, P.EditMode.EXCAVATE, _centre(), 2.0)
	pr.resolve(7, false, P.RejectReason.CANISTERS_FULL)
	for c: Vector3i in _original:
		assert_eq(_voxels(c), _original[c], "chunk %s restored" % c)
	assert_eq(rejected, [[7, P.RejectReason.CANISTERS_FULL, "canisters full"]])
	assert_eq(pr.pending_count(), 0)
	assert_false(pr.is_predicted(Vector3i(0, 0, 0)))


func test_rejecting_one_of_two_overlapping_edits_keeps_the_other() -> void:
	var pr := PSEditPredictor.new(_store)
	var a := _centre()
	var b := PackedFloat64Array([17.0, 7.0, 15.5])
	pr.predict(1, P.EditMode.EXCAVATE, a, 1.5)
	pr.predict(2, P.EditMode.ELEVATE, b, 1.0)
	pr.resolve(1, false, P.RejectReason.RATE_LIMITED)
	for c: Vector3i in _original:
		var d: PackedByteArray = (_original[c][0] as PackedByteArray).duplicate()
		var m: PackedByteArray = (_original[c][1] as PackedByteArray).duplicate()
		PSEditPredictor.apply_edit(d, m, c, P.EditMode.ELEVATE, b, PSEditPredictor.f32(1.0))
		assert_eq(_voxels(c), [d, m], "chunk %s shows only edit 2" % c)
	pr.resolve(2, false, P.RejectReason.NOT_ENOUGH_SOIL)
	for c: Vector3i in _original:
		assert_eq(_voxels(c), _original[c], "chunk %s back to the server's voxels" % c)


func test_accepted_edit_stays_until_the_named_version_arrives() -> void:
	var pr := PSEditPredictor.new(_store)
	var c := Vector3i(0, 0, 0)
	var centre := PackedFloat64Array([8.0, 7.5, 8.0])  # inside chunk (0, 0, 0) only
	pr.predict(3, P.EditMode.EXCAVATE, centre, 1.5)
	var predicted: Array = _voxels(c).duplicate(true)
	pr.resolve(3, true, 0, [[c, 1]], 100, 100)
	assert_eq(_voxels(c), predicted, "still shown after EDIT_RESULT")
	assert_true(pr.is_predicted(c))
	# the server removed a little less (e.g. canisters nearly full): its voxels win
	var server_d: PackedByteArray = (_original[c][0] as PackedByteArray).duplicate()
	var server_m: PackedByteArray = (_original[c][1] as PackedByteArray).duplicate()
	PSEditPredictor.apply_edit(server_d, server_m, c, P.EditMode.EXCAVATE, centre, 1.0)
	assert_true(pr.apply_authoritative(c, 1, server_d, server_m))
	assert_eq(_voxels(c), [server_d, server_m], "server voxels replace the prediction")
	assert_false(pr.is_predicted(c))
	assert_eq(pr.pending_count(), 0)
	assert_false(
		pr.apply_authoritative(c, 1, _original[c][0], _original[c][1]), "same version ignored"
	)


func test_foreign_delta_under_a_pending_prediction_keeps_the_prediction_on_top() -> void:
	var pr := PSEditPredictor.new(_store)
	var c := Vector3i(0, 0, 0)
	var mine := PackedFloat64Array([8.0, 7.5, 8.0])
	var theirs := PackedFloat64Array([3.0, 7.5, 3.0])
	pr.predict(4, P.EditMode.EXCAVATE, mine, 1.5)
	var d: PackedByteArray = (_original[c][0] as PackedByteArray).duplicate()
	var m: PackedByteArray = (_original[c][1] as PackedByteArray).duplicate()
	PSEditPredictor.apply_edit(d, m, c, P.EditMode.EXCAVATE, theirs, 1.0)
	pr.apply_authoritative(c, 1, d.duplicate(), m.duplicate())
	PSEditPredictor.apply_edit(d, m, c, P.EditMode.EXCAVATE, mine, 1.5)
	assert_eq(_voxels(c), [d, m], "their edit + my pending edit")
	pr.resolve(4, false, P.RejectReason.OUT_OF_REACH)
	var only_theirs: PackedByteArray = (_original[c][0] as PackedByteArray).duplicate()
	var only_theirs_m: PackedByteArray = (_original[c][1] as PackedByteArray).duplicate()
	PSEditPredictor.apply_edit(only_theirs, only_theirs_m, c, P.EditMode.EXCAVATE, theirs, 1.0)
	assert_eq(_voxels(c), [only_theirs, only_theirs_m], "rejected: only their edit remains")


func test_reset_undoes_every_prediction() -> void:
	var pr := PSEditPredictor.new(_store)
	pr.predict(1, P.EditMode.EXCAVATE, _centre(), 1.5)
	pr.predict(2, P.EditMode.FLATTEN, _centre(), 2.0)
	pr.reset()
	for c: Vector3i in _original:
		assert_eq(_voxels(c), _original[c], "chunk %s" % c)


func test_writes_go_through_the_apply_callable() -> void:
	var calls: Array = []
	var apply := func(
		c: Vector3i, idx: PackedInt32Array, d: PackedByteArray, m: PackedByteArray
	) -> void:
		calls.append(c)
		_store.apply_delta(c, idx, d, m)
	var pr := PSEditPredictor.new(_store, apply)
	pr.predict(1, P.EditMode.EXCAVATE, PackedFloat64Array([8.0, 7.5, 8.0]), 1.5)
	assert_eq(calls, [Vector3i(0, 0, 0)])
	pr.resolve(1, false, P.RejectReason.NO_EFFECT)
	assert_eq(calls.size(), 2)
	assert_eq(_voxels(Vector3i(0, 0, 0)), _original[Vector3i(0, 0, 0)])
