extends SceneTree
## Writes the project's OpenXR action map, res://openxr_action_map.tres:
##
## tools/godot --headless --xr-mode off --path godot_project -s res://xr/action_map_builder.gd
##
## One action set "planetary" with the terrain tool's, locomotion's and turning's actions,
## bound for the Khronos simple controller, Valve Index (also what Monado's remote driver
## presents), Oculus Touch, HTC Vive, Windows Mixed Reality and HP Reverb G2 controllers.
## The table below is the single source: edit it and run this script again.

const OUT := "res://openxr_action_map.tres"
## OpenXRAction.ActionType values (HAPTIC is not exposed to scripts in Godot 4.6).
const BOOL := 0
const FLOAT := 1
const VECTOR2 := 2
const POSE := 3
const HAPTIC := 4
const HANDS: PackedStringArray = ["/user/hand/left", "/user/hand/right"]

## name -> [localized name, OpenXRAction.ActionType]
const ACTIONS := {
	"aim_pose": ["Aim pose", POSE],
	"grip_pose": ["Grip pose", POSE],
	"trigger": ["Tool trigger", FLOAT],
	"primary": ["Thumbstick: move, turn, tool radius", VECTOR2],
	"mode_cycle": ["Cycle tool mode", BOOL],
	"haptic": ["Haptic feedback", HAPTIC],
}

## Profile -> action -> input path below /user/hand/{left,right}.
const PROFILES := {
	"/interaction_profiles/khr/simple_controller":
	{
		"aim_pose": "/input/aim/pose",
		"grip_pose": "/input/grip/pose",
		"trigger": "/input/select/click",
		"mode_cycle": "/input/menu/click",
		"haptic": "/output/haptic",
	},
	"/interaction_profiles/valve/index_controller":
	{
		"aim_pose": "/input/aim/pose",
		"grip_pose": "/input/grip/pose",
		"trigger": "/input/trigger/value",
		"primary": "/input/thumbstick",
		"mode_cycle": "/input/a/click",
		"haptic": "/output/haptic",
	},
	"/interaction_profiles/oculus/touch_controller":
	{
		"aim_pose": "/input/aim/pose",
		"grip_pose": "/input/grip/pose",
		"trigger": "/input/trigger/value",
		"primary": "/input/thumbstick",
		"mode_cycle": {"left": "/input/x/click", "right": "/input/a/click"},
		"haptic": "/output/haptic",
	},
	"/interaction_profiles/htc/vive_controller":
	{
		"aim_pose": "/input/aim/pose",
		"grip_pose": "/input/grip/pose",
		"trigger": "/input/trigger/value",
		"primary": "/input/trackpad",
		"mode_cycle": "/input/menu/click",
		"haptic": "/output/haptic",
	},
	"/interaction_profiles/microsoft/motion_controller":
	{
		"aim_pose": "/input/aim/pose",
		"grip_pose": "/input/grip/pose",
		"trigger": "/input/trigger/value",
		"primary": "/input/thumbstick",
		"mode_cycle": "/input/menu/click",
		"haptic": "/output/haptic",
	},
	"/interaction_profiles/hp/mixed_reality_controller":
	{
		"aim_pose": "/input/aim/pose",
		"grip_pose": "/input/grip/pose",
		"trigger": "/input/trigger/value",
		"primary": "/input/thumbstick",
		"mode_cycle": {"left": "/input/x/click", "right": "/input/a/click"},
		"haptic": "/output/haptic",
	},
}


func _initialize() -> void:
	var err := ResourceSaver.save(build(), OUT)
	print("%s: %s" % [OUT, error_string(err)])
	quit(0 if err == OK else 1)


static func build() -> OpenXRActionMap:
	var map := OpenXRActionMap.new()
	var aset := OpenXRActionSet.new()
	aset.resource_name = "planetary"
	aset.localized_name = "Planetary Survival"
	aset.priority = 0
	var by_name := {}
	for action_name: String in ACTIONS:
		var a := OpenXRAction.new()
		a.resource_name = action_name
		a.localized_name = ACTIONS[action_name][0]
		a.action_type = ACTIONS[action_name][1] as OpenXRAction.ActionType
		a.toplevel_paths = HANDS
		aset.add_action(a)
		by_name[action_name] = a
	map.add_action_set(aset)
	for profile_path: String in PROFILES:
		var profile := OpenXRInteractionProfile.new()
		profile.interaction_profile_path = profile_path
		var table: Dictionary = PROFILES[profile_path]
		var bindings: Array[OpenXRIPBinding] = []
		for action_name: String in table:
			for side in ["left", "right"]:
				var sub: Variant = table[action_name]
				var input: String = sub[side] if sub is Dictionary else sub
				var b := OpenXRIPBinding.new()
				b.action = by_name[action_name]
				b.binding_path = "/user/hand/%s%s" % [side, input]
				bindings.append(b)
		profile.bindings = bindings
		map.add_interaction_profile(profile)
	return map
