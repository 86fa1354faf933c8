extends SceneTree
## Headless GDScript test runner.
##
## tools/godot --headless --xr-mode off --path godot_project -s res://tests/runner.gd -- \
##     [--filter TEXT] [--junit PATH] [--dir DIR] [--timeout SECONDS]
##
## Runs every test_* method of every res://tests/**/test_*.gd (folders named "fixtures"
## are skipped unless --dir points into one). Each test file extends PSTestCase
## (res://tests/test_case.gd). A test is named "<file path under res://tests, without
## .gd>.<method>"; --filter keeps the tests whose name contains TEXT. Prints one
## "PASS name" or "FAIL name: message" line per test and closes with "N passed, M failed".
## The exit code is the number of failures, at most 255. A test file that cannot be
## loaded, a runtime script error during a test and a test that outlives --timeout all
## count as failures. Needs the global class cache: after adding a class_name, run
## tools/godot --headless --xr-mode off --path godot_project --import

const TEST_CASE_PATH: String = "res://tests/test_case.gd"
const TestCaseScript = preload(TEST_CASE_PATH)
const TESTS_DIR: String = "res://tests"
const EXCLUDED_DIR_NAMES: PackedStringArray = ["fixtures"]
const DEFAULT_TIMEOUT_S: float = 120.0
const IMPORT_HINT: String = "tools/godot --headless --xr-mode off --path godot_project --import"


## Collects engine and script errors while a test or a test file's load is running.
class ErrorCollector:
	extends Logger

	var _mutex: Mutex = Mutex.new()
	var _recording: bool = false
	var _errors: PackedStringArray = PackedStringArray()

	func begin() -> void:
		_mutex.lock()
		_recording = true
		_errors = PackedStringArray()
		_mutex.unlock()

	func end() -> PackedStringArray:
		_mutex.lock()
		_recording = false
		var result: PackedStringArray = _errors
		_errors = PackedStringArray()
		_mutex.unlock()
		return result

	func _log_error(
		function: String,
		file: String,
		line: int,
		code: String,
		rationale: String,
		_editor_notify: bool,
		error_type: int,
		_script_backtraces: Array[ScriptBacktrace]
	) -> void:
		# Runtime script errors (and parse errors met while loading) fail the test;
		# push_error() and engine errors are the code under test's business.
		if error_type != ERROR_TYPE_SCRIPT:
			return
		var text: String = rationale if not rationale.is_empty() else code
		_mutex.lock()
		if _recording:
			_errors.append("%s (%s:%d in %s)" % [text, file, line, function])
		_mutex.unlock()


var _filter: String = ""
var _junit_path: String = ""
var _start_dir: String = TESTS_DIR
var _timeout_s: float = DEFAULT_TIMEOUT_S
var _passed: int = 0
var _failed: int = 0
## One entry per test: {suite, name, ok, message, time}.
var _results: Array[Dictionary] = []
var _errors: ErrorCollector = ErrorCollector.new()
var _current_suite: String = ""
var _current_test: String = ""
var _current_started_ms: int = 0
var _finished: bool = false


func _initialize() -> void:
	OS.add_logger(_errors)
	var arg_error: String = _parse_args(OS.get_cmdline_user_args())
	if not arg_error.is_empty():
		printerr("runner: " + arg_error)
		_finished = true
		quit(2)
		return
	# The root enters the tree after _initialize(); tests run once it has.
	_run_all.call_deferred()


## Watchdog: a test that runs too long fails the run (awaits can hang forever).
func _process(_delta: float) -> bool:
	if _finished or _current_test.is_empty():
		return false
	if Time.get_ticks_msec() - _current_started_ms > int(_timeout_s * 1000.0):
		_record(
			_current_suite, _current_test, false, "timed out after %s s" % _timeout_s, _timeout_s
		)
		_finish()
	return false


func _parse_args(args: PackedStringArray) -> String:
	var i: int = 0
	while i < args.size():
		var arg: String = args[i]
		var needs_value: bool = arg in ["--filter", "--junit", "--dir", "--timeout"]
		if needs_value and i + 1 >= args.size():
			return "%s needs a value" % arg
		match arg:
			"--filter":
				_filter = args[i + 1]
			"--junit":
				_junit_path = args[i + 1]
			"--dir":
				_start_dir = _to_res_path(args[i + 1])
			"--timeout":
				if not args[i + 1].is_valid_float():
					return "--timeout needs a number of seconds"
				_timeout_s = args[i + 1].to_float()
			_:
				return "unknown argument '%s'" % arg
		i += 2
	return ""


func _run_all() -> void:
	if not DirAccess.dir_exists_absolute(_start_dir):
		_record("", "discovery", false, "no such directory: " + _start_dir, 0.0)
		_finish()
		return
	var files: PackedStringArray = _discover(_start_dir)
	for path: String in files:
		if _finished:
			return
		await _run_file(path)
	if _finished:
		return
	if _passed + _failed == 0:
		var where: String = _start_dir
		if not _filter.is_empty():
			where += " matching '%s'" % _filter
		_record("", "discovery", false, "no tests found in " + where, 0.0)
	_finish()


## Paths of test_*.gd files below dir, sorted, skipping fixtures and hidden folders.
func _discover(dir: String) -> PackedStringArray:
	var found: PackedStringArray = PackedStringArray()
	var files: PackedStringArray = DirAccess.get_files_at(dir)
	files.sort()
	for file: String in files:
		var path: String = dir.path_join(file)
		if file.begins_with("test_") and file.get_extension() == "gd" and path != TEST_CASE_PATH:
			found.append(path)
	var subdirs: PackedStringArray = DirAccess.get_directories_at(dir)
	subdirs.sort()
	for sub: String in subdirs:
		if sub.begins_with(".") or sub in EXCLUDED_DIR_NAMES:
			continue
		found.append_array(_discover(dir.path_join(sub)))
	return found


func _run_file(path: String) -> void:
	var suite: String = _suite_name(path)
	_errors.begin()
	var script: GDScript = ResourceLoader.load(path, "GDScript") as GDScript
	var load_errors: PackedStringArray = _errors.end()
	if script == null or not script.can_instantiate():
		var message: String = "cannot load the test script"
		if not load_errors.is_empty():
			message += ": " + "; ".join(load_errors)
		if message.contains("Could not find"):
			message += " (new class_name? refresh the class cache: " + IMPORT_HINT + ")"
		_record_if_selected(suite, suite, false, message, 0.0)
		return

	var methods: PackedStringArray = _test_methods(script)
	var selected: PackedStringArray = PackedStringArray()
	for method: String in methods:
		if _is_selected(suite + "." + method):
			selected.append(method)
	if selected.is_empty():
		return

	var instance: Object = script.new()
	if not is_instance_of(instance, TestCaseScript):
		_record_if_selected(suite, suite, false, "does not extend PSTestCase", 0.0)
		if instance is Node:
			(instance as Node).free()
		return
	var test_case: TestCaseScript = instance as TestCaseScript
	root.add_child(test_case)

	if await _call_hook(test_case, suite, "before_all"):
		for method: String in selected:
			if _finished:
				return
			await _run_test(test_case, suite, method)
		await _call_hook(test_case, suite, "after_all")
	if _finished:
		return
	root.remove_child(test_case)
	test_case.free()


func _run_test(test_case: TestCaseScript, suite: String, method: String) -> void:
	var name: String = suite + "." + method
	var started_us: int = Time.get_ticks_usec()
	_current_suite = suite
	_current_test = name
	_current_started_ms = Time.get_ticks_msec()
	test_case.clear_failures()
	_errors.begin()
	if test_case.has_method("before_each"):
		await test_case.call("before_each")
	await test_case.call(method)
	if test_case.has_method("after_each"):
		await test_case.call("after_each")
	var runtime_errors: PackedStringArray = _errors.end()
	_current_test = ""
	if _finished:
		return
	var messages: PackedStringArray = test_case.failures.duplicate()
	for error: String in runtime_errors:
		messages.append("script error: " + error)
	var seconds: float = (Time.get_ticks_usec() - started_us) / 1e6
	_record(suite, name, messages.is_empty(), " | ".join(messages), seconds)


## Runs an optional suite hook; records a failure and returns false if it fails.
func _call_hook(test_case: TestCaseScript, suite: String, hook: String) -> bool:
	if not test_case.has_method(hook):
		return true
	test_case.clear_failures()
	_current_suite = suite
	_current_test = suite + "." + hook
	_current_started_ms = Time.get_ticks_msec()
	_errors.begin()
	await test_case.call(hook)
	var messages: PackedStringArray = test_case.failures.duplicate()
	for error: String in _errors.end():
		messages.append("script error: " + error)
	_current_test = ""
	if _finished:
		return false
	if messages.is_empty():
		return true
	_record(suite, suite + "." + hook, false, " | ".join(messages), 0.0)
	return false


## Methods named test_* in declaration order, base scripts' ones included once.
func _test_methods(script: GDScript) -> PackedStringArray:
	var names: PackedStringArray = PackedStringArray()
	for info: Dictionary in script.get_script_method_list():
		var method_name: String = info["name"]
		if method_name.begins_with("test_") and not method_name in names:
			names.append(method_name)
	return names


func _is_selected(test_name: String) -> bool:
	return _filter.is_empty() or test_name.contains(_filter)


func _record_if_selected(
	suite: String, name: String, ok: bool, message: String, seconds: float
) -> void:
	if _is_selected(name):
		_record(suite, name, ok, message, seconds)


func _record(suite: String, name: String, ok: bool, message: String, seconds: float) -> void:
	if ok:
		_passed += 1
		print("PASS %s" % name)
	else:
		_failed += 1
		print("FAIL %s: %s" % [name, message.replace("\n", " ")])
	_results.append({"suite": suite, "name": name, "ok": ok, "message": message, "time": seconds})


func _finish() -> void:
	if _finished:
		return
	_finished = true
	if not _junit_path.is_empty():
		_write_junit(_junit_path)
	print("%d passed, %d failed" % [_passed, _failed])
	OS.remove_logger(_errors)
	quit(mini(_failed, 255))


func _suite_name(path: String) -> String:
	var rel: String = path.trim_suffix(".gd")
	if rel.begins_with(TESTS_DIR + "/"):
		return rel.substr(TESTS_DIR.length() + 1)
	return rel.trim_prefix("res://")


func _to_res_path(dir: String) -> String:
	if dir.begins_with("res://") or dir.is_absolute_path():
		return dir.trim_suffix("/")
	return "res://" + dir.trim_suffix("/")


func _write_junit(path: String) -> void:
	var total_time: float = 0.0
	for result: Dictionary in _results:
		total_time += result["time"]
	var lines: PackedStringArray = [
		'<?xml version="1.0" encoding="UTF-8"?>',
		(
			'<testsuite name="godot" tests="%d" failures="%d" errors="0" time="%.3f">'
			% [_results.size(), _failed, total_time]
		),
	]
	for result: Dictionary in _results:
		var test_name: String = result["name"]
		var suite: String = result["suite"]
		var head: String = (
			'  <testcase classname="%s" name="%s" time="%.3f"'
			% [_xml(suite), _xml(test_name.trim_prefix(suite + ".")), result["time"]]
		)
		if result["ok"]:
			lines.append(head + "/>")
		else:
			lines.append(head + ">")
			lines.append('    <failure message="%s"/>' % _xml(result["message"]))
			lines.append("  </testcase>")
	lines.append("</testsuite>")
	var file: FileAccess = FileAccess.open(path, FileAccess.WRITE)
	if file == null:
		printerr("runner: cannot write %s: %s" % [path, error_string(FileAccess.get_open_error())])
		_failed += 1
		return
	file.store_string("\n".join(lines) + "\n")
	file.close()


func _xml(text: String) -> String:
	return text.xml_escape(true)
