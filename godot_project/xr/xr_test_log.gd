class_name PSXrTestLog
extends Node
## Event log for end-to-end tests: with [code]--xr-test-log=PATH[/code] among the user
## arguments (after [code]--[/code]) every [method event] is appended to PATH as one JSON
## object per line ([code]{"event": NAME, "t": seconds, ...}[/code]) and flushed at once.
## Without the argument it does nothing.

const ARG := "--xr-test-log="

var _file: FileAccess
var _start_ms := Time.get_ticks_msec()


func _ready() -> void:
	var path := path_from_args(OS.get_cmdline_user_args())
	if path.is_empty():
		return
	_file = FileAccess.open(path, FileAccess.WRITE)
	if _file == null:
		var err := error_string(FileAccess.get_open_error())
		push_error("xr test log: cannot write %s (%s)" % [path, err])


static func path_from_args(args: PackedStringArray) -> String:
	for a in args:
		if a.begins_with(ARG):
			return a.substr(ARG.length())
	return ""


func enabled() -> bool:
	return _file != null


## Append event [param name] with [param data] (JSON-compatible values; Vector3 and
## packed float arrays become lists).
func event(name: String, data: Dictionary = {}) -> void:
	if _file == null:
		return
	var row := {"event": name, "t": (Time.get_ticks_msec() - _start_ms) / 1000.0}
	for k: String in data:
		row[k] = _plain(data[k])
	_file.store_line(JSON.stringify(row, "", true, true))
	_file.flush()


static func _plain(v: Variant) -> Variant:
	if v is Vector3:
		return [v.x, v.y, v.z]
	if v is Vector2:
		return [v.x, v.y]
	if v is PackedFloat64Array or v is PackedInt32Array or v is PackedFloat32Array:
		return Array(v)
	if v is StringName:
		return String(v)
	return v
