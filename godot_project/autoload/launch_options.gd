class_name PSLaunchOptions
extends Node
## The command line, parsed once at start-up; registered as the autoload [code]PSOptions[/code].
##
## [code]tools/godot --path godot_project -- --server ws://HOST:PORT [--spectator]
## [--auth-key-file PATH] [--world-seed N --planet P][/code]
##
## * [code]--server URL[/code]: where to play. [code]http://HOST:PORT[/code] or
##   [code]https://...[/code]: the orchestrator ([code]planet-server serve[/code]); the client
##   bootstraps there and joins the map process it names (a ticket). [code]ws://HOST:PORT[/code]
##   or [code]wss://...[/code]: one game server joined directly ([code]serve --single[/code]).
##   Without it the client views a planet offline.
## * [code]--spectator[/code]: the desktop spectator even when OpenXR is available.
## * [code]--auth-key-file PATH[/code]: file holding the player's key (read by the net layer).
## * [code]--world-seed N[/code] (0 .. 2^63 - 1), [code]--planet P[/code] (index, >= 0): the
##   planet to view offline (defaults [constant DEFAULT_WORLD_SEED], 0).
## * [code]--view-radius N[/code]: terrain view radius in chunks (default: the streamer's).
## * [code]--screenshot PATH[/code]: spectator only; once the terrain around the camera has
##   loaded, save the view as a PNG and quit (tests and CI artifacts).
## Bad values are reported in [member errors] (and printed) and leave the default; other
## arguments (for tools that share the command line) are listed in [member ignored].

const DEFAULT_WORLD_SEED := 42
const SEED_MAX := 9223372036854775807

var server_url := ""
var server_host := ""
var server_port := 0
## True when [member server_url] is an orchestrator (http:// or https://).
var server_bootstrap := false
var spectator := false
var auth_key_file := ""
var world_seed := DEFAULT_WORLD_SEED
var planet := 0
## True when --world-seed or --planet was given.
var world_given := false
var view_radius := 0
var screenshot_path := ""
## One message per rejected argument.
var errors := PackedStringArray()
## Arguments that are not options of the client.
var ignored := PackedStringArray()


func _enter_tree() -> void:
	# errors are reported by the game's start-up (main.gd), not here: tool scripts run
	# with -s load this autoload too and have their own arguments and messages
	parse(OS.get_cmdline_user_args())


## Parse [param args] (the user arguments after [code]--[/code]); returns true if all were valid.
func parse(args: PackedStringArray) -> bool:
	errors = PackedStringArray()
	ignored = PackedStringArray()
	var i := 0
	while i < args.size():
		var arg := args[i]
		var value := ""
		var eq := arg.find("=")
		if arg.begins_with("--") and eq > 0:
			value = arg.substr(eq + 1)
			arg = arg.substr(0, eq)
		elif i + 1 < args.size() and _takes_value(arg):
			i += 1
			value = args[i]
		i += 1
		_apply(arg, value)
	return errors.is_empty()


func _takes_value(arg: String) -> bool:
	return arg in [
		"--server", "--auth-key-file", "--world-seed", "--planet", "--view-radius", "--screenshot"
	]


func _apply(arg: String, value: String) -> void:
	match arg:
		"--server":
			_set_server(value)
		"--spectator":
			spectator = true
		"--auth-key-file":
			if value.is_empty():
				errors.append("--auth-key-file needs a path")
			else:
				auth_key_file = value
		"--world-seed":
			if _is_seed(value):
				world_seed = value.to_int()
				world_given = true
			else:
				errors.append("--world-seed must be an integer in [0, %d], got '%s'" % [SEED_MAX, value])
		"--planet":
			if value.is_valid_int() and value.to_int() >= 0:
				planet = value.to_int()
				world_given = true
			else:
				errors.append("--planet must be an integer >= 0, got '%s'" % value)
		"--view-radius":
			if value.is_valid_int() and value.to_int() >= 1 and value.to_int() <= 16:
				view_radius = value.to_int()
			else:
				errors.append("--view-radius must be an integer in [1, 16], got '%s'" % value)
		"--screenshot":
			if value.is_empty():
				errors.append("--screenshot needs a path")
			else:
				screenshot_path = value
		_:
			ignored.append(arg)


static func _is_seed(text: String) -> bool:
	if text.is_empty() or text.length() > 19:
		return false
	for ch in text:
		if ch < "0" or ch > "9":
			return false
	return text.length() < 19 or text <= str(SEED_MAX)


func _set_server(url: String) -> void:
	var scheme := url.substr(0, url.find("://")) if url.find("://") > 0 else ""
	var default_port: int = {"http": 80, "https": 443}.get(scheme, 0)
	if scheme not in ["ws", "wss", "http", "https"]:
		errors.append(
			(
				"--server must be http://HOST:PORT (orchestrator) or ws://HOST:PORT (one server),"
				+ " got '%s'" % url
			)
		)
		return
	var rest := url.substr(scheme.length() + 3)
	var hostport := rest.split("/", true, 1)[0]
	var colon := hostport.rfind(":")
	if hostport.begins_with("[") and hostport.rfind("]") > colon:
		colon = -1  # an IPv6 address without a port
	var port_text := hostport.substr(colon + 1) if colon > 0 else ""
	var port := port_text.to_int() if port_text.is_valid_int() else 0
	if colon <= 0 and default_port > 0 and not hostport.is_empty():
		port = default_port
		colon = hostport.length()
	if colon <= 0 or port < 1 or port > 65535:
		errors.append("--server needs a host and a port 1-65535, got '%s'" % url)
		return
	server_url = url
	server_host = hostport.substr(0, colon).trim_prefix("[").trim_suffix("]")
	server_port = port
	server_bootstrap = default_port > 0


## A one-line summary for logs and the HUD.
func describe() -> String:
	var where := server_url if server_url != "" else "offline"
	return "%s, seed %d, planet %d%s" % [where, world_seed, planet, ", spectator" if spectator else ""]
