class_name PSEditPredictor
extends RefCounted
## Client-side prediction and reconciliation of terrain edits (docs/terrain.md section 2).
##
## The displayed voxels of a chunk are its *authoritative* voxels (the server's newest
## state: generated + delta payload) with the still-unconfirmed local edits replayed on
## top, in the order they were sent. An edit is shown at once ([method predict]); its
## EDIT_RESULT ([method resolve]) either drops it (rejected: the chunk goes back exactly
## to the authoritative voxels + the other pending edits, and [signal edit_rejected]
## carries the reason for the HUD) or keeps it until the server's delta for each chunk it
## changed arrives at the version the result named ([method apply_authoritative]); then the
## server's voxels replace the prediction. Predictions use the server's formulas (sphere
## CSG on quantized density, float64), so an accepted edit usually needs no visible fix;
## the canister soil limit is not predicted (the server's delta corrects it).
##
## Voxels are written through [member apply_fn] ([code]apply_fn.call(coord, indices,
## densities, materials)[/code], e.g. [method PSTerrainStreamer.apply_delta]) for chunks in
## [member store], and full authoritative states of chunks not in the store go through
## [member state_fn] ([code]state_fn.call(coord, densities, materials)[/code]).
## Main thread only.

## Emitted when the server refused edit [param seq]; [param text] is for the HUD.
signal edit_rejected(seq: int, reason: int, text: String)
## Emitted when the server accepted edit [param seq].
signal edit_accepted(seq: int, soil_delta: int, soil_total: int)

const P := preload("res://net/protocol.gd")
const SIZE := 32
const VOXEL_M := 0.5
const SCALE := 32.0
const MAX_Q := 127
const BAND_M := 1.0
const FLATTEN_STEP := 16
const SOIL := 2
## Predictions not confirmed within this time are dropped (lost result or delta).
const MAX_AGE_S := 10.0

## The client's voxels ([PSChunkStore] or anything with [code]get_chunk(coord)[/code]).
var store: Object
var apply_fn: Callable
var state_fn: Callable
## Authoritative version per chunk (only chunks the server told us about).
var versions: Dictionary = {}

## seq -> Prediction, and seqs in send order.
var _pending: Dictionary = {}
var _order: Array[int] = []
## coord -> [density, material] authoritative voxels of chunks with pending predictions.
var _auth: Dictionary = {}


## One locally predicted edit.
class Prediction:
	extends RefCounted
	var seq: int
	var mode: int
	var centre: PackedFloat64Array
	var radius: float
	var born_s: float
	var accepted := false
	## coord -> version the server named (accepted), or -1 while unresolved.
	var chunks: Dictionary = {}


func _init(
	voxel_store: Object = null, apply: Callable = Callable(), state: Callable = Callable()
) -> void:
	store = voxel_store
	apply_fn = apply
	state_fn = state


## Number of edits waiting for their result or their delta.
func pending_count() -> int:
	return _pending.size()


## True while chunk [param coord] shows a prediction.
func is_predicted(coord: Vector3i) -> bool:
	return _auth.has(coord)


## Show edit [param seq] at once: [param mode] ([enum PSProtocol.EditMode]) of a sphere of
## [param radius] metres around world point [param centre] (metres, float64). The radius is
## rounded to float32 as on the wire. Returns the chunks whose voxels changed.
func predict(
	seq: int, mode: int, centre: PackedFloat64Array, radius: float, now_s: float = -1.0
) -> Array[Vector3i]:
	var pr := Prediction.new()
	pr.seq = seq
	pr.mode = mode
	pr.centre = centre
	pr.radius = f32(radius)
	pr.born_s = now_s if now_s >= 0.0 else Time.get_ticks_msec() / 1000.0
	var changed: Array[Vector3i] = []
	for coord in touched_chunks(mode, centre, pr.radius):
		var chunk: Variant = store.get_chunk(coord) if store != null else null
		if chunk == null:
			continue
		var d: PackedByteArray = chunk.density.duplicate()
		var m: PackedByteArray = chunk.material.duplicate()
		if not apply_edit(d, m, coord, mode, centre, pr.radius):
			continue
		if not _auth.has(coord):
			_auth[coord] = [chunk.density.duplicate(), chunk.material.duplicate()]
		pr.chunks[coord] = -1
		_write(coord, d, m)
		changed.append(coord)
	_pending[seq] = pr
	_order.append(seq)
	return changed


## The server's answer to edit [param seq]: [param chunk_versions] as in EDIT_RESULT
## ([[Vector3i, version], ...]).
func resolve(
	seq: int,
	accepted: bool,
	reason: int,
	chunk_versions: Array = [],
	soil_delta: int = 0,
	soil_total: int = 0
) -> void:
	var pr: Prediction = _pending.get(seq)
	if not accepted:
		if pr != null:
			_drop(pr)
		edit_rejected.emit(seq, reason, P.reject_reason_text(reason))
		return
	edit_accepted.emit(seq, soil_delta, soil_total)
	if pr == null:
		return
	pr.accepted = true
	var named := {}
	for e: Array in chunk_versions:
		named[e[0]] = int(e[1])
	var stale: Array[Vector3i] = []
	for coord: Vector3i in pr.chunks.keys():
		var v: int = named.get(coord, -1)
		if v < 0 or int(versions.get(coord, -1)) >= v:
			stale.append(coord)  # the server did not change it, or its delta is here already
		else:
			pr.chunks[coord] = v
	for coord in stale:
		pr.chunks.erase(coord)
	if pr.chunks.is_empty():
		_remove(pr)
	for coord in stale:
		_refresh(coord)


## The server's voxels of chunk [param coord] at [param version] (generated + payload).
## Older or equal versions than the one held are ignored (returns false). Predictions
## confirmed by this version stop being replayed; the others stay on top.
func apply_authoritative(
	coord: Vector3i, version: int, density: PackedByteArray, material: PackedByteArray
) -> bool:
	if versions.has(coord) and version <= int(versions[coord]):
		return false
	versions[coord] = version
	if not _auth.has(coord):
		_write(coord, density, material)
		return true
	_auth[coord] = [density, material]
	for seq in _order.duplicate():
		var pr: Prediction = _pending[seq]
		if pr.accepted and pr.chunks.has(coord) and int(pr.chunks[coord]) <= version:
			pr.chunks.erase(coord)
			if pr.chunks.is_empty():
				_remove(pr)
	_refresh(coord)
	return true


## Drop predictions older than [constant MAX_AGE_S] (their result or delta got lost).
func expire(now_s: float) -> void:
	for seq in _order.duplicate():
		var pr: Prediction = _pending[seq]
		if now_s - pr.born_s > MAX_AGE_S:
			_drop(pr)


## Forget everything (disconnect): chunks go back to their authoritative voxels and the
## known versions are cleared (they mean nothing in another server run).
func reset() -> void:
	var coords: Array = _auth.keys()
	_pending.clear()
	_order.clear()
	for coord: Vector3i in coords:
		var a: Array = _auth[coord]
		_auth.erase(coord)
		_write(coord, a[0], a[1])
	versions.clear()


## The authoritative voxels of a chunk with predictions ([density, material]), else [].
func authoritative_voxels(coord: Vector3i) -> Array:
	return _auth.get(coord, [])


func _drop(pr: Prediction) -> void:
	var coords: Array = pr.chunks.keys()
	_remove(pr)
	for coord: Vector3i in coords:
		_refresh(coord)


func _remove(pr: Prediction) -> void:
	_pending.erase(pr.seq)
	_order.erase(pr.seq)


## Display authoritative + pending predictions for [param coord].
func _refresh(coord: Vector3i) -> void:
	if not _auth.has(coord):
		return
	var a: Array = _auth[coord]
	var d: PackedByteArray = (a[0] as PackedByteArray).duplicate()
	var m: PackedByteArray = (a[1] as PackedByteArray).duplicate()
	var any := false
	for seq in _order:
		var pr: Prediction = _pending[seq]
		if pr.chunks.has(coord):
			any = true
			apply_edit(d, m, coord, pr.mode, pr.centre, pr.radius)
	if not any:
		_auth.erase(coord)
	_write(coord, d, m)


## Make chunk [param coord] show ([param d], [param m]).
func _write(coord: Vector3i, d: PackedByteArray, m: PackedByteArray) -> void:
	var chunk: Variant = store.get_chunk(coord) if store != null else null
	if chunk == null:
		if state_fn.is_valid():
			state_fn.call(coord, d, m)
		return
	var delta := PSDeltaCodec.diff(chunk.density, chunk.material, d, m)
	if (delta[0] as PackedInt32Array).is_empty():
		return
	if apply_fn.is_valid():
		apply_fn.call(coord, delta[0], delta[1], delta[2])
	else:
		chunk.apply_delta(delta[0], delta[1], delta[2])


# ---- the server's edit formulas (server/world/csg.py) -----------------------------------


## [param x] rounded to float32 (the wire's radius type).
static func f32(x: float) -> float:
	var b := PackedByteArray()
	b.resize(4)
	b.encode_float(0, x)
	return b.decode_float(0)


## Q(x) = clamp(floor(x * 32 + 0.5), -127, 127).
static func quantize(d_m: float) -> int:
	return clampi(int(floorf(d_m * SCALE + 0.5)), -MAX_Q, MAX_Q)


## Inclusive global voxel bounds [lo, hi] of an edit's box.
static func edit_box(mode: int, centre: PackedFloat64Array, radius: float) -> Array[Vector3i]:
	var reach := radius if mode == P.EditMode.FLATTEN else radius + BAND_M
	var lo := Vector3i(
		ceili((centre[0] - reach) / VOXEL_M),
		ceili((centre[1] - reach) / VOXEL_M),
		ceili((centre[2] - reach) / VOXEL_M)
	)
	var hi := Vector3i(
		floori((centre[0] + reach) / VOXEL_M),
		floori((centre[1] + reach) / VOXEL_M),
		floori((centre[2] + reach) / VOXEL_M)
	)
	return [lo, hi]


## Chunks overlapping an edit's box.
static func touched_chunks(mode: int, centre: PackedFloat64Array, radius: float) -> Array[Vector3i]:
	var box := edit_box(mode, centre, radius)
	var lo := Vector3i(floori(box[0].x / 32.0), floori(box[0].y / 32.0), floori(box[0].z / 32.0))
	var hi := Vector3i(floori(box[1].x / 32.0), floori(box[1].y / 32.0), floori(box[1].z / 32.0))
	var out: Array[Vector3i] = []
	for cx in range(lo.x, hi.x + 1):
		for cy in range(lo.y, hi.y + 1):
			for cz in range(lo.z, hi.z + 1):
				out.append(Vector3i(cx, cy, cz))
	return out


## Apply an edit to chunk [param coord]'s voxels [param d] / [param m] in place (no soil
## limit). Returns true if a voxel changed.
static func apply_edit(
	d: PackedByteArray,
	m: PackedByteArray,
	coord: Vector3i,
	mode: int,
	centre: PackedFloat64Array,
	radius: float
) -> bool:
	var box := edit_box(mode, centre, radius)
	var base := coord * SIZE
	var lo := Vector3i(
		maxi(box[0].x - base.x, 0), maxi(box[0].y - base.y, 0), maxi(box[0].z - base.z, 0)
	)
	var hi := Vector3i(
		mini(box[1].x - base.x, SIZE - 1),
		mini(box[1].y - base.y, SIZE - 1),
		mini(box[1].z - base.z, SIZE - 1)
	)
	var cx := centre[0]
	var cy := centre[1]
	var cz := centre[2]
	var up := _radial_up(centre)
	var changed := false
	for x in range(lo.x, hi.x + 1):
		var dx: float = float(base.x + x) * VOXEL_M - cx
		for y in range(lo.y, hi.y + 1):
			var dy: float = float(base.y + y) * VOXEL_M - cy
			for z in range(lo.z, hi.z + 1):
				var dz: float = float(base.z + z) * VOXEL_M - cz
				var s := sqrt(dx * dx + dy * dy + dz * dz)
				var idx := (x * SIZE + y) * SIZE + z
				var ob: int = d[idx]
				var q := ob - 256 if ob > 127 else ob
				var nq := q
				match mode:
					P.EditMode.EXCAVATE:
						if s <= radius + BAND_M:
							nq = mini(q, quantize(s - radius))
					P.EditMode.ELEVATE:
						if s <= radius + BAND_M:
							nq = maxi(q, quantize(radius - s))
					_:
						if s <= radius:
							var h := dx * up[0] + dy * up[1] + dz * up[2]
							nq = q + clampi(quantize(-h) - q, -FLATTEN_STEP, FLATTEN_STEP)
				var om: int = m[idx]
				var nm := om
				if nq <= 0:
					nm = 0
				elif q <= 0:
					nm = SOIL
				if nq != q or nm != om:
					d[idx] = nq & 0xFF
					m[idx] = nm
					changed = true
	return changed


## Unit vector through [param c] from the planet centre (+y at the centre), float64.
static func _radial_up(c: PackedFloat64Array) -> PackedFloat64Array:
	var n := sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2])
	if n < 1e-9:
		return PackedFloat64Array([0.0, 1.0, 0.0])
	return PackedFloat64Array([c[0] / n, c[1] / n, c[2] / n])
