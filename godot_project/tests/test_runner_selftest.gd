extends PSTestCase
## Tests of PSTestCase's assertion helpers. Failing assertions are made on a nested
## instance, so they are recorded there and do not fail this run.

var _hooks: PackedStringArray = PackedStringArray()


func before_each() -> void:
	_hooks.append("before_each")


func after_each() -> void:
	_hooks.append("after_each")


func test_passing_assertions_record_nothing() -> void:
	var inner: PSTestCase = PSTestCase.new()
	assert_true(inner.assert_true(true))
	assert_true(inner.assert_false(false))
	assert_true(inner.assert_eq(3, 3))
	assert_true(inner.assert_eq("a", "a"))
	assert_true(inner.assert_eq([1, 2, {"k": 3}], [1, 2, {"k": 3}]))
	assert_true(inner.assert_ne(3, 4))
	assert_true(inner.assert_almost_eq(0.1 + 0.2, 0.3))
	assert_true(inner.assert_almost_eq(1.0, 1.05, 0.1))
	assert_true(inner.assert_null(null))
	assert_true(inner.assert_not_null(inner))
	assert_false(inner.has_failed())
	assert_eq(inner.failures.size(), 0)
	inner.free()


func test_failing_assertion_is_recorded_with_its_message() -> void:
	var inner: PSTestCase = PSTestCase.new()
	assert_false(inner.assert_eq(1, 2, "one is two"))
	assert_true(inner.has_failed())
	assert_eq(inner.failures.size(), 1)
	if inner.failures.size() == 1:
		assert_eq(inner.failures[0], "one is two: expected 2, got 1")
	inner.free()


func test_each_failing_helper_records_one_failure() -> void:
	var inner: PSTestCase = PSTestCase.new()
	inner.assert_true(false)
	inner.assert_false(true)
	inner.assert_eq("a", "b")
	inner.assert_ne(1, 1)
	inner.assert_almost_eq(1.0, 1.2, 0.1)
	inner.assert_null(1)
	inner.assert_not_null(null)
	inner.fail("explicit")
	assert_eq(inner.failures.size(), 8)
	assert_eq(inner.failures[inner.failures.size() - 1], "explicit")
	inner.clear_failures()
	assert_false(inner.has_failed(), "clear_failures() empties the list")
	inner.free()


func test_assert_eq_does_not_mix_types() -> void:
	var inner: PSTestCase = PSTestCase.new()
	assert_false(inner.assert_eq(1, 1.0), "int 1 and float 1.0 differ")
	assert_false(inner.assert_eq("1", 1), "String and int differ")
	assert_eq(inner.failures.size(), 2)
	inner.free()


func test_almost_eq_message_has_full_precision() -> void:
	var inner: PSTestCase = PSTestCase.new()
	inner.assert_almost_eq(0.1, 0.2, 0.01)
	assert_eq(inner.failures.size(), 1)
	if inner.failures.size() == 1:
		assert_true(inner.failures[0].contains("got 0.1"), inner.failures[0])
	inner.free()


func test_hooks_run_around_each_test() -> void:
	assert_eq(_hooks[_hooks.size() - 1], "before_each")
	assert_eq(_hooks.count("before_each"), _hooks.count("after_each") + 1)


func test_is_in_the_scene_tree_and_can_await_frames() -> void:
	assert_true(is_inside_tree())
	var frames_before: int = Engine.get_process_frames()
	await get_tree().process_frame
	await get_tree().process_frame
	assert_true(Engine.get_process_frames() > frames_before, "frames advanced")
