extends Node
## Start-up: the VR scene when OpenXR initialised (and the build has the VR scene),
## otherwise the desktop spectator with an on-screen message saying why.
## [code]--spectator[/code] always picks the spectator (see [PSLaunchOptions]).

const VR_SCENE := "res://xr/vr_main.tscn"
const SPECTATOR_SCENE := "res://desktop/spectator.tscn"


func _ready() -> void:
	var opts: PSLaunchOptions = get_node_or_null(^"/root/PSOptions")
	var force_spectator := opts != null and opts.spectator
	var xr := XRServer.find_interface("OpenXR")
	var xr_ready := xr != null and xr.is_initialized()
	var choice := choose_scene(xr_ready, ResourceLoader.exists(VR_SCENE), force_spectator)
	var path: String = choice[0]
	var message: String = choice[1]
	if opts != null and not opts.errors.is_empty():
		for e in opts.errors:
			push_warning("command line: " + e)
		message = ("Command line: " + "; ".join(opts.errors) + ". " + message).strip_edges()
	print("start-up: %s%s" % [path, (" (" + message + ")") if message != "" else ""])
	if path == VR_SCENE:
		get_viewport().use_xr = true
	var scene: Node = (load(path) as PackedScene).instantiate()
	if path == SPECTATOR_SCENE:
		scene.set("startup_message", message)
	add_child(scene)


## [scene path, message]: which scene to start, and the message to show (why not VR).
static func choose_scene(
	xr_initialised: bool, vr_scene_exists: bool, force_spectator: bool
) -> Array:
	if force_spectator:
		return [SPECTATOR_SCENE, ""]
	if not xr_initialised:
		return [
			SPECTATOR_SCENE,
			"VR unavailable: OpenXR did not initialise (no headset or runtime). Desktop spectator."
		]
	if not vr_scene_exists:
		return [
			SPECTATOR_SCENE,
			"VR unavailable: OpenXR is running but this build has no VR scene. Desktop spectator."
		]
	return [VR_SCENE, ""]
