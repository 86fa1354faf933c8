class_name PSChunkColliders
extends Node3D
## Collision of the chunks near the player, attached a piece at a time.
##
## Godot builds a ConcavePolygonShape3D's BVH when the shape is attached to a body in the
## space (about 10 ms for a whole 3 600-triangle chunk on the test VM), and adding a shape
## to a body that is already in the space rebuilds the body's compound shape. So a chunk's
## triangles are cut on the worker ([method build_pieces]) into pieces by position: one per
## cube of [constant CELL_M] metres (4^3 per chunk) that the surface crosses, split further
## above [constant MAX_PIECE_TRIANGLES]; and [method attach_some] gives each piece its own
## StaticBody3D, a few per frame within the main thread's budget.
##
## Re-meshes after edits: a piece whose triangles are the same as the attached one keeps
## its body, so an edit re-attaches only the few cubes it changed (not the whole chunk);
## chunks that already have collision (re-meshes: edits, server deltas) are served before
## chunks getting their first collision ([param priority] of [method enqueue]). A chunk's
## new pieces replace its old ones only when all of them are attached, so the ground never
## disappears under a player during a re-mesh; a newer mesh arriving meanwhile keeps the
## new pieces it shares with the one being attached.
##
## Child of [PSTerrainStreamer] at the identity transform; one holder Node3D per chunk at
## [code](coord - origin_chunk) * 16 m[/code].

## Edge of the cubes pieces are cut by (metres; the chunk is 16 m).
const CELL_M := 4.0
const CELLS := 4
## A cube's triangles beyond this are split into several pieces (bounds one attach's cost).
const MAX_PIECE_TRIANGLES := 320


## One collision piece: its key (cube, part), triangles and shape; the body once attached.
class Piece:
	extends RefCounted
	var key := 0
	var faces := PackedVector3Array()
	var shape: ConcavePolygonShape3D
	var body: StaticBody3D


var _holders := {}  # Vector3i -> Node3D holding the chunk's bodies (complete and new)
var _live := {}  # Vector3i -> {key: Piece}: the chunk's complete collision
var _serials := {}  # Vector3i -> mesh serial of the complete collision
var _fresh := {}  # Vector3i -> {key: Piece}: attached for the queued mesh, not yet live
var _queue: Array = []  # [coord, serial, pieces to attach, next, {key: Piece} target, priority]


## Collision pieces of a triangle soup (3 vertices per triangle, chunk-local metres):
## triangles grouped by the [constant CELL_M] cube holding their centroid, in mesh order.
## Thread-safe: called on worker threads.
static func build_pieces(faces: PackedVector3Array) -> Array[Piece]:
	var by_cell := {}  # cell -> Array of Vector3
	var scale := 1.0 / (3.0 * CELL_M)
	for i in range(0, faces.size(), 3):
		var a := faces[i]
		var b := faces[i + 1]
		var c := faces[i + 2]
		var m := (a + b + c) * scale
		var k := (
			(clampi(int(m.x), 0, CELLS - 1) * CELLS + clampi(int(m.y), 0, CELLS - 1)) * CELLS
			+ clampi(int(m.z), 0, CELLS - 1)
		)
		var list: Array = by_cell.get(k, [])
		if list.is_empty():
			by_cell[k] = list
		list.append(a)
		list.append(b)
		list.append(c)
	var keys := by_cell.keys()
	keys.sort()
	var out: Array[Piece] = []
	for k: int in keys:
		var all := PackedVector3Array(by_cell[k])
		var tris := all.size() / 3
		var parts := ceili(float(tris) / MAX_PIECE_TRIANGLES)
		var per := ceili(float(tris) / parts) * 3
		for j in parts:
			var p := Piece.new()
			p.key = k * 16 + j
			p.faces = all.slice(j * per, (j + 1) * per) if parts > 1 else all
			p.shape = ConcavePolygonShape3D.new()
			p.shape.set_faces(p.faces)
			out.append(p)
	return out


## Queue chunk [param coord]'s new collision ([param pieces] from [method build_pieces] of
## the mesh of [param serial]): only the pieces that differ from the attached ones are
## attached. [param priority] entries go before the others (in their order).
func enqueue(
	coord: Vector3i, serial: int, pieces: Array, position_m: Vector3, priority: bool = false
) -> void:
	_unqueue(coord)
	var live: Dictionary = _live.get(coord, {})
	var fresh: Dictionary = _fresh.get(coord, {})
	var kept := {}
	var target := {}
	var todo: Array = []
	for p: Piece in pieces:
		target[p.key] = p
		var old: Piece = live.get(p.key)
		if old != null and old.faces == p.faces:
			continue
		var f: Piece = fresh.get(p.key)
		if f != null and f.faces == p.faces:
			kept[p.key] = f
			continue
		todo.append(p)
	for k: int in fresh:
		if not kept.has(k):
			(fresh[k] as Piece).body.queue_free()
	_fresh[coord] = kept
	var holder: Node3D = _holders.get(coord)
	if holder == null:
		holder = Node3D.new()
		holder.name = "collision_%d_%d_%d" % [coord.x, coord.y, coord.z]
		add_child(holder)
		_holders[coord] = holder
	holder.position = position_m
	var e: Array = [coord, serial, todo, 0, target, priority]
	if todo.is_empty():
		_finish(e)
		return
	var at := _queue.size()
	if priority:
		at = 0
		while at < _queue.size() and bool((_queue[at] as Array)[5]):
			at += 1
	_queue.insert(at, e)


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
			_discard_fresh(c)
			continue
		var todo: Array = e[2]
		var k: int = e[3]
		var p: Piece = todo[k]
		p.body = StaticBody3D.new()
		var cs := CollisionShape3D.new()
		cs.shape = p.shape
		p.body.add_child(cs)
		(_holders[c] as Node3D).add_child(p.body)
		(_fresh[c] as Dictionary)[p.key] = p
		n += 1
		e[3] = k + 1
		if k + 1 >= todo.size():
			_queue.pop_front()
			_finish(e)
	return n


## Remove chunk [param coord]'s collision (attached and pending).
func drop(coord: Vector3i) -> void:
	_unqueue(coord)
	var holder: Node = _holders.get(coord)
	if holder != null:
		holder.queue_free()
	_holders.erase(coord)
	_live.erase(coord)
	_fresh.erase(coord)
	_serials.erase(coord)


## Remove the collision of every chunk for which [param keep] (coord) -> bool is false.
func drop_unless(keep: Callable) -> void:
	var gone: Array[Vector3i] = []
	for c: Vector3i in _holders:
		if not keep.call(c):
			gone.append(c)
	for c in gone:
		drop(c)


## Place every holder at [param place] (coord) -> Vector3 (after an origin shift).
func reposition(place: Callable) -> void:
	for c: Vector3i in _holders:
		(_holders[c] as Node3D).position = place.call(c)


func has_collision(coord: Vector3i) -> bool:
	return _live.has(coord)


## The mesh serial of chunk [param coord]'s complete collision, -1 if it has none.
func collision_serial(coord: Vector3i) -> int:
	return int(_serials.get(coord, -1))


## Bodies (pieces) of chunk [param coord]'s complete collision.
func piece_count(coord: Vector3i) -> int:
	return (_live.get(coord, {}) as Dictionary).size()


## Chunks with complete collision.
func count() -> int:
	return _live.size()


## Pieces waiting to be attached.
func pending_pieces() -> int:
	var n := 0
	for e: Array in _queue:
		n += (e[2] as Array).size() - int(e[3])
	return n


## True while pieces wait to be attached.
func is_busy() -> bool:
	return not _queue.is_empty()


func clear() -> void:
	for n: Node in _holders.values():
		n.queue_free()
	_holders.clear()
	_live.clear()
	_fresh.clear()
	_serials.clear()
	_queue.clear()


## All of entry [param e]'s pieces are attached: they become the chunk's collision, the
## bodies they replace go.
func _finish(e: Array) -> void:
	var c: Vector3i = e[0]
	var target: Dictionary = e[4]
	var live: Dictionary = _live.get(c, {})
	var fresh: Dictionary = _fresh.get(c, {})
	var out := {}
	for k: int in target:
		out[k] = fresh[k] if fresh.has(k) else live[k]
	for k: int in live:
		if out.get(k) != live[k]:
			(live[k] as Piece).body.queue_free()
	_live[c] = out
	_fresh.erase(c)
	_serials[c] = e[1]


## Forget the pieces attached for a queued mesh that is no longer wanted.
func _discard_fresh(c: Vector3i) -> void:
	var fresh: Dictionary = _fresh.get(c, {})
	for p: Piece in fresh.values():
		p.body.queue_free()
	_fresh.erase(c)
	if not _live.has(c) and _holders.has(c):
		(_holders[c] as Node).queue_free()
		_holders.erase(c)


func _unqueue(coord: Vector3i) -> void:
	for i in range(_queue.size() - 1, -1, -1):
		if (_queue[i] as Array)[0] == coord:
			_queue.remove_at(i)
