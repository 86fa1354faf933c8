class_name PSAvatar
extends Node3D
## Another player: a body, a head and two hands. The body pose is planet-centred (placed in
## scene space by [PSAvatars]); head and hand poses are relative to the body. Desktop players
## send no head or hands: the head then sits at [member default_head_height] and the hands
## are hidden.

@export_range(0.5, 2.5, 0.05, "suffix:m") var default_head_height := 1.6

@onready var head: Node3D = $Head
@onready var left_hand: Node3D = $LeftHand
@onready var right_hand: Node3D = $RightHand


## Show pose set [param poses] (see [PSCodec]); [param body] is the body's scene transform.
func show_poses(body: Transform3D, poses: Dictionary) -> void:
	transform = body
	_place(head, poses.get("head"), Vector3(0.0, default_head_height, 0.0), true)
	_place(left_hand, poses.get("left_hand"), Vector3.ZERO, false)
	_place(right_hand, poses.get("right_hand"), Vector3.ZERO, false)


static func _place(node: Node3D, pose: Variant, fallback: Vector3, always: bool) -> void:
	if node == null:
		return
	if pose == null:
		node.visible = always
		node.transform = Transform3D(Basis.IDENTITY, fallback)
		return
	var p: Dictionary = pose
	node.visible = true
	node.transform = Transform3D(Basis((p["rotation"] as Quaternion).normalized()), p["position"])
