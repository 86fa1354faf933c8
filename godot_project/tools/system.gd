extends SceneTree
## Print a solar system as JSON, like [code]python -m shared_gen system[/code].
##
## tools/godot --headless --xr-mode off --path godot_project -s res://tools/system.gd \
##     -- --seed S
##
## Prints [code]JSON.stringify(system.to_dict(), "", true, true)[/code] (sorted keys, full
## float precision), the same text as the reference's
## [code]json.dumps(d, sort_keys=True, separators=(",", ":"))[/code]. Exit 2 with an
## "error: ..." line on stderr for a seed that is not an integer in [0, 2**63 - 1].

const ChunkHashTool := preload("res://tools/chunk_hash.gd")


func _initialize() -> void:
	var opts := ChunkHashTool.parse_options(OS.get_cmdline_user_args(), ["--seed"])
	if opts.has("error"):
		printerr("error: " + str(opts["error"]))
		quit(ChunkHashTool.EXIT_BAD_ARGS)
		return
	var seed := ChunkHashTool.parse_seed(opts["--seed"])
	if seed.has("error"):
		printerr("error: argument --seed: " + str(seed["error"]))
		quit(ChunkHashTool.EXIT_BAD_ARGS)
		return
	var system := PSGenSolarSystem.generate_solar_system(seed["value"])
	print(JSON.stringify(system.to_dict(), "", true, true))
	quit(0)
