class_name PSChunkColliders
extends Node3D
## Collision of the chunks near the player, attached a piece at a time.
##
## Godot builds a ConcavePolygonShape3D's BVH when the shape is attached to a body in the
## space (about 10 ms for a whole 3 600-triangle chunk on the test VM), and adding a shape
## to a body that is already in the space rebuilds the body's compound shape. So a chunk's
## triangles are cut into shapes of [constant PIECE_TRIANGLES] on the worker
## ([method build_shapes]), and [method attach_some] gives each piece its own StaticBody3D,
## a few per frame within the main thread's budget. A chunk's new bodies replace its old
## ones only when all its pieces are attached, so the ground never disappears under a
## player during a re-mesh.
##
## Child of [PSTerrainStreamer] at the identity transform; one holder Node3D per chunk at
## [code](coord - origin_chunk) * 16 m[/code].

## Triangles per collision shape.
const PIECE_TRIANGLES := 256

var _done := {}  # Vector3i -> Node3D holding the chunk's bodies
var _filling := {}  # Vector3i -> Node3D being filled
var _queue: Array = []  # [coord, mesh serial, shapes, next piece]


## Collision shapes of a triangle soup (3 vertices per triangle, chunk-local metres).
## Thread-safe: called on worker threads.
static func build_shapes(faces: PackedVector3Array) -> Array[ConcavePolygonShape3D]:
	var shapes: Array[ConcavePolygonShape3D] = []
	var step := PIECE_TRIANGLES * 3
	for k in range(0, faces.size(), step):
		var shape := ConcavePolygonShape3D.new()
		shape.set_faces(faces.slice(k, k + step))
		shapes.append(shape)
	return shapes


## Queue chunk [param coord]'s new collision (from the mesh of [param serial]).
func enqueue(coord: Vector3i, serial: int, shapes: Array, position_m: Vector3) -> void:
	_discard_filling(coord)
	_queue.append([coord, serial, shapes, 0, position_m])


## Attach queued pieces until [param deadline_usec] (Time.get_ticks_usec()); at least one
## piece when any is queued. [param is_current] (coord, serial) -> bool drops outdated
## entries. Returns the number of pieces attached.
func attach_some(deadline_usec: int, is_current: Callable) -> int:
	var n := 0
	while not _queue.is_empty():
		if n > 0 and Time.get_ticks_usec() >= deadline_usec:
			break
		var e: Array = _queue[0]
		var c: Vector3i = e[0]
		if not is_current.call(c, e[1]):
			_queue.pop_front()
			_discard_filling(c)
			continue
		var shapes: Array = e[2]
		var k: int = e[3]
		var holder: Node3D = _filling.get(c)
		if holder == null:
			holder = Node3D.new()
			holder.name = "collision_%d_%d_%d" % [c.x, c.y, c.z]
			holder.position = e[4]
			add_child(holder)
			_filling[c] = holder
		var body := StaticBody3D.new()
		var cs := CollisionShape3D.new()
		cs.shape = shapes[k]
		body.add_child(cs)
		holder.add_child(body)
		n += 1
		e[3] = k + 1
		if k + 1 >= shapes.size():
			_queue.pop_front()
			_filling.erase(c)
			var old: Node = _done.get(c)
			if old != null:
				old.queue_free()
			_done[c] = holder
	return n


## Remove chunk [param coord]'s collision (attached and pending).
func drop(coord: Vector3i) -> void:
	var old: Node = _done.get(coord)
	if old != null:
		old.queue_free()
		_done.erase(coord)
	_discard_filling(coord)


## Remove the collision of every chunk for which [param keep] (coord) -> bool is false.
func drop_unless(keep: Callable) -> void:
	var gone: Array[Vector3i] = []
	for c: Vector3i in _done:
		if not keep.call(c):
			gone.append(c)
	for c: Vector3i in _filling:
		if not keep.call(c) and not c in gone:
			gone.append(c)
	for c in gone:
		drop(c)


## Place every holder at [param place] (coord) -> Vector3 (after an origin shift).
func reposition(place: Callable) -> void:
	for c: Vector3i in _done:
		(_done[c] as Node3D).position = place.call(c)
	for c: Vector3i in _filling:
		(_filling[c] as Node3D).position = place.call(c)
	for e: Array in _queue:
		e[4] = place.call(e[0])


func has_collision(coord: Vector3i) -> bool:
	return _done.has(coord)


## Chunks with complete collision.
func count() -> int:
	return _done.size()


## True while pieces wait to be attached.
func is_busy() -> bool:
	return not _queue.is_empty()


func clear() -> void:
	for n: Node in _done.values():
		n.queue_free()
	for n: Node in _filling.values():
		n.queue_free()
	_done.clear()
	_filling.clear()
	_queue.clear()


func _discard_filling(coord: Vector3i) -> void:
	var stale: Node = _filling.get(coord)
	if stale != null:
		stale.queue_free()
		_filling.erase(coord)
	for i in range(_queue.size() - 1, -1, -1):
		if (_queue[i] as Array)[0] == coord:
			_queue.remove_at(i)
