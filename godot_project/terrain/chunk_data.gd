class_name PSChunkData
extends RefCounted
## The voxels of one chunk as the client holds them: generated locally, replaced by the
## server's chunk state, and edited by the server's deltas.
##
## Layout as [code]PSGenPlanet.Chunk[/code] (docs/generation.md): 32^3 voxels of 0.5 m,
## index [code](x * 32 + y) * 32 + z[/code] (z fastest); [member density] holds int8 values
## as bytes (two's complement, solid > 0, 32 units per metre), [member material] uint8 ids
## (0 = air). [member solid_rows] caches, per (x, y) row, a 32-bit mask of the solid voxels
## (bit z), which the mesher combines into apron rows without touching every byte.
##
## Threading: the packed arrays are copy-on-write values. The streamer hands copies of them
## to worker tasks, so editing a chunk on the main thread never races a running mesh job.

const SIZE := 32
const VOLUME := SIZE * SIZE * SIZE
const ROWS := SIZE * SIZE
## Density byte of deep air (-127) and of deep solid (+127).
const AIR_BYTE := 0x81
const SOLID_BYTE := 0x7F
const FULL_ROW := 0xFFFFFFFF

## uniform: every voxel is air.
const UNIFORM_AIR := -1
## uniform: voxels differ (or are solid with differing materials).
const MIXED := 0
## uniform: every voxel is solid.
const UNIFORM_SOLID := 1

## Integer chunk coordinate (chunk c holds global voxels 32 * c + 0..31).
var coord: Vector3i
## int8 densities as bytes, 32^3.
var density: PackedByteArray
## uint8 material ids, 32^3.
var material: PackedByteArray
## 1024 masks: bit z of entry x * 32 + y is set when voxel (x, y, z) is solid.
var solid_rows: PackedInt64Array
## UNIFORM_AIR, MIXED or UNIFORM_SOLID (by solidity only).
var uniform := MIXED
## The voxels as generated (the base the server's delta payloads apply to); shares its
## storage with [member density] / [member material] until they are edited.
var generated_density: PackedByteArray
var generated_material: PackedByteArray
## True once the server's state replaced the generated voxels.
var authoritative := false
## The server's version of this chunk (0 = as generated).
var version := 0
## Incremented on every change (generation, server state, delta).
var revision := 0


## A chunk of the given arrays (32^3 each); computes [member solid_rows].
static func from_arrays(
	chunk_coord: Vector3i, densities: PackedByteArray, materials: PackedByteArray
) -> PSChunkData:
	assert(densities.size() == VOLUME and materials.size() == VOLUME)
	var c := PSChunkData.new()
	c.coord = chunk_coord
	c.density = densities
	c.material = materials
	c.generated_density = densities
	c.generated_material = materials
	c.update_masks()
	return c


## A chunk filled with deep air (density -127, material 0).
static func make_air(chunk_coord: Vector3i) -> PSChunkData:
	var d := PackedByteArray()
	d.resize(VOLUME)
	d.fill(AIR_BYTE)
	var m := PackedByteArray()
	m.resize(VOLUME)
	var c := PSChunkData.new()
	c.coord = chunk_coord
	c.density = d
	c.material = m
	c.generated_density = d
	c.generated_material = m
	c.solid_rows.resize(ROWS)
	c.uniform = UNIFORM_AIR
	return c


## True if density byte [param b] is a solid voxel (int8 value > 0).
static func is_solid_byte(b: int) -> bool:
	return b >= 1 and b <= 127


## Voxel index of local voxel (x, y, z), each 0..31.
static func index_of(x: int, y: int, z: int) -> int:
	return (x * SIZE + y) * SIZE + z


## Signed density (-128..127) of voxel index [param idx].
func density_at(idx: int) -> int:
	var v: int = density[idx]
	return v - 256 if v > 127 else v


## Replace all voxels (e.g. with a server payload applied to the generated ones); returns
## the indices that changed. Bumps [member revision] when something changed.
func replace_voxels(densities: PackedByteArray, materials: PackedByteArray) -> PackedInt32Array:
	var changed: PackedInt32Array = PSDeltaCodec.diff(density, material, densities, materials)[0]
	if changed.is_empty():
		return changed
	density = densities
	material = materials
	update_masks()
	revision += 1
	return changed


## Recompute [member solid_rows] and [member uniform] from [member density].
func update_masks() -> void:
	var rows := PackedInt64Array()
	rows.resize(ROWS)
	var air_row := PackedByteArray()
	air_row.resize(SIZE)
	air_row.fill(AIR_BYTE)
	var solid_row := PackedByteArray()
	solid_row.resize(SIZE)
	solid_row.fill(SOLID_BYTE)
	var d := density
	var solid_count := 0
	for r in ROWS:
		var o := r * SIZE
		var row := d.slice(o, o + SIZE)
		if row == air_row:
			continue
		if row == solid_row:
			rows[r] = FULL_ROW
			solid_count += SIZE
			continue
		var m := 0
		for z in SIZE:
			var b: int = row[z]
			if b >= 1 and b <= 127:
				m |= 1 << z
				solid_count += 1
		rows[r] = m
	solid_rows = rows
	if solid_count == 0:
		uniform = UNIFORM_AIR
	elif solid_count == VOLUME:
		uniform = UNIFORM_SOLID
	else:
		uniform = MIXED


## Set voxel [param idx] (0..32767) to [param density_value] (-127..127) and
## [param material_id]; keeps the masks up to date. Returns true if anything changed.
func set_voxel(idx: int, density_value: int, material_id: int) -> bool:
	var b := density_value & 0xFF
	if density[idx] == b and material[idx] == material_id:
		return false
	density[idx] = b
	material[idx] = material_id
	var r := idx >> 5
	var bit := 1 << (idx & 31)
	if is_solid_byte(b):
		solid_rows[r] |= bit
	else:
		solid_rows[r] &= ~bit
	uniform = MIXED
	return true


## Apply a delta: voxel [param indices] get [param densities] (int8 as bytes) and
## [param materials]; equal sizes. Recomputes [member uniform]; bumps [member revision].
## Returns the local voxels that changed, as indices.
func apply_delta(
	indices: PackedInt32Array, densities: PackedByteArray, materials: PackedByteArray
) -> PackedInt32Array:
	assert(indices.size() == densities.size() and indices.size() == materials.size())
	var changed := PackedInt32Array()
	for k in indices.size():
		var idx := indices[k]
		if idx < 0 or idx >= VOLUME:
			push_error("PSChunkData.apply_delta: voxel index %d out of range" % idx)
			continue
		var dv: int = densities[k]
		if set_voxel(idx, dv - 256 if dv > 127 else dv, materials[k]):
			changed.append(idx)
	if not changed.is_empty():
		_update_uniform()
		revision += 1
	return changed


func _update_uniform() -> void:
	var first := solid_rows[0]
	if first != 0 and first != FULL_ROW:
		uniform = MIXED
		return
	for r in ROWS:
		if solid_rows[r] != first:
			uniform = MIXED
			return
	uniform = UNIFORM_AIR if first == 0 else UNIFORM_SOLID
