class_name PSTestCase
extends Node
## Base class of the project's GDScript tests (run by res://tests/runner.gd).
##
## A test file is res://tests/**/test_*.gd, extends PSTestCase (or
## "res://tests/test_case.gd") and has methods named test_*. The runner adds the
## instance to the scene tree, so tests may add nodes and await frames. Optional hooks:
## before_all(), before_each(), after_each(), after_all().
## Failed assertions are recorded, not raised: a test goes on after a failed assertion.

## Messages of the failures recorded since the last clear_failures().
var failures: PackedStringArray = PackedStringArray()


func clear_failures() -> void:
	failures = PackedStringArray()


func has_failed() -> bool:
	return not failures.is_empty()


## Record a failure. Returns false so callers can write `if not ...: return fail(...)`.
func fail(message: String = "failed") -> bool:
	failures.append(message)
	return false


func assert_true(condition: bool, message: String = "") -> bool:
	if condition:
		return true
	return fail(_with_context("expected true, got false", message))


func assert_false(condition: bool, message: String = "") -> bool:
	if not condition:
		return true
	return fail(_with_context("expected false, got true", message))


func assert_eq(actual: Variant, expected: Variant, message: String = "") -> bool:
	if _equal(actual, expected):
		return true
	return fail(_with_context("expected %s, got %s" % [_repr(expected), _repr(actual)], message))


func assert_ne(actual: Variant, unexpected: Variant, message: String = "") -> bool:
	if not _equal(actual, unexpected):
		return true
	return fail(_with_context("expected a value other than %s" % _repr(unexpected), message))


func assert_almost_eq(
	actual: float, expected: float, tolerance: float = 1e-6, message: String = ""
) -> bool:
	if absf(actual - expected) <= tolerance:
		return true
	var text: String = (
		"expected %s ± %s, got %s"
		% [String.num(expected, 17), String.num(tolerance, 17), String.num(actual, 17)]
	)
	return fail(_with_context(text, message))


func assert_null(value: Variant, message: String = "") -> bool:
	if value == null:
		return true
	return fail(_with_context("expected null, got %s" % _repr(value), message))


func assert_not_null(value: Variant, message: String = "") -> bool:
	if value != null:
		return true
	return fail(_with_context("expected a value, got null", message))


## Values of different types are unequal (1 != 1.0 here, unlike GDScript's ==).
func _equal(a: Variant, b: Variant) -> bool:
	if typeof(a) != typeof(b):
		return false
	return a == b


func _repr(value: Variant) -> String:
	if value is String:
		return '"%s"' % value
	if value is float:
		return String.num(value, 17)
	if value is Object:
		return str(value)
	return var_to_str(value)


func _with_context(text: String, message: String) -> String:
	if message.is_empty():
		return text
	return "%s: %s" % [message, text]
