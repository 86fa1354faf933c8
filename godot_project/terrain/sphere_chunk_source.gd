class_name PSSphereChunkSource
extends PSChunkSource
## An analytic test planet: a sphere of [member radius_m] metres centred on the origin,
## density = clamp(radius - r, -4, 4) m quantized like the generator (32 units per metre),
## material [member material_id]. Cheap and exact, for mesher and streamer tests.

var radius_m := 20.0
var material_id := 16


static func create(radius: float, mat: int = 16) -> PSSphereChunkSource:
	var s := PSSphereChunkSource.new()
	s.radius_m = radius
	s.material_id = mat
	return s


func planet_radius_m() -> float:
	return radius_m


func classify(coord: Vector3i) -> int:
	var rr := chunk_radius_range(coord)
	if rr.x >= radius_m + 4.0:
		return AIR
	if rr.y <= radius_m - 32.0:
		return BURIED
	return UNKNOWN


func generate(coord: Vector3i) -> PSChunkData:
	var d := PackedByteArray()
	var m := PackedByteArray()
	d.resize(PSChunkData.VOLUME)
	m.resize(PSChunkData.VOLUME)
	var base := Vector3(coord) * 16.0
	var o := 0
	for x in 32:
		var px := base.x + x * 0.5
		for y in 32:
			var py := base.y + y * 0.5
			var pxy := px * px + py * py
			for z in 32:
				var pz := base.z + z * 0.5
				var q := int(clampf(floorf((radius_m - sqrt(pxy + pz * pz)) * 32.0 + 0.5), -127, 127))
				d[o] = q & 0xFF
				if q > 0:
					m[o] = material_id
				o += 1
	return PSChunkData.from_arrays(coord, d, m)
