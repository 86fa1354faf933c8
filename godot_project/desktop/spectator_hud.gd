class_name PSSpectatorHud
extends CanvasLayer
## The spectator's heads-up display: connection, server tick, players, soil and camera
## mode in the top-left corner, a start-up message (e.g. why VR did not start) at the top,
## and terrain streaming figures at the bottom. Fed by [PSSpectator] through [method show_status].

@onready var _status: Label = $Status
@onready var _message: Label = $Message
@onready var _terrain: Label = $Terrain


## [param status] keys: connection (String), tick (int, -1 = none), players
## (PackedStringArray), soil (String), mode (String).
func show_status(status: Dictionary) -> void:
	var tick: int = status.get("tick", -1)
	var players: PackedStringArray = status.get("players", PackedStringArray())
	var lines := PackedStringArray([
		"Connection: %s" % status.get("connection", "offline"),
		"Tick: %s" % ("-" if tick < 0 else str(tick)),
		"Players (%d): %s" % [players.size(), ", ".join(players) if players.size() > 0 else "-"],
		"Soil: %s" % status.get("soil", "-"),
		"Mode: %s" % status.get("mode", "free-fly"),
	])
	_status.text = "\n".join(lines)


## Show [param text] at the top of the screen ("" hides it).
func show_message(text: String) -> void:
	_message.text = text
	_message.visible = not text.is_empty()


func show_terrain(stats: Dictionary) -> void:
	_terrain.text = "terrain: %d chunks, %d meshes, %d colliders, %d generating, %d meshing" % [
		stats.get("chunks", 0), stats.get("meshes", 0), stats.get("colliders", 0),
		stats.get("generating", 0), stats.get("meshing", 0)
	]
