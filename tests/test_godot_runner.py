"""The Godot tooling: tools/godot, the headless GDScript runner and its failure reporting."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from godot_support import GODOT, HEADLESS, Godot, parse_summary

FAILING_DIR = "res://tests/fixtures/failing"


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr[-4000:]}"


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def test_godot_version_is_4_6(godot: Godot) -> None:
    proc = godot.run([*HEADLESS, "--version"], timeout=60)
    assert proc.returncode == 0, _explain(proc)
    assert _last_line(proc.stdout).startswith("4.6."), _explain(proc)
    assert godot.version.startswith("4.6.")


@pytest.mark.timeout(1200)
def test_gdscript_suite_passes(godot: Godot) -> None:
    """Every GDScript test of the project (res://tests/**/test_*.gd) passes."""
    proc = godot.run_tests(timeout=900)
    assert proc.returncode == 0, _explain(proc)
    summary = parse_summary(proc.stdout)
    assert summary is not None, _explain(proc)
    passed, _failed = summary
    assert _last_line(proc.stdout) == f"{passed} passed, 0 failed", _explain(proc)
    assert passed >= 1
    assert "\nFAIL " not in "\n" + proc.stdout
    # The runner's own self-test is part of it; the failing fixtures are not.
    assert "PASS test_runner_selftest.test_failing_assertion_is_recorded" in proc.stdout
    assert "fixtures/" not in proc.stdout


def test_failing_tests_fail_the_run(godot: Godot) -> None:
    proc = godot.run_tests("--dir", FAILING_DIR, timeout=300)
    out = proc.stdout
    assert proc.returncode >= 1, _explain(proc)
    assert proc.returncode == 3, _explain(proc)
    assert "PASS fixtures/failing/test_failing.test_passes" in out, _explain(proc)
    assert (
        "FAIL fixtures/failing/test_failing.test_fails_with_message: "
        "deliberate failure: expected 3, got 2" in out
    ), _explain(proc)
    # A runtime script error fails its test.
    assert "FAIL fixtures/failing/test_failing.test_runtime_error_fails: script error" in out
    # A test file that does not load is a failure, not silently skipped.
    assert "FAIL fixtures/failing/test_parse_error: cannot load the test script" in out
    assert _last_line(out) == "1 passed, 3 failed", _explain(proc)


def test_filter_and_junit_report(godot: Godot, tmp_path: Path) -> None:
    junit = tmp_path / "godot.xml"
    proc = godot.run_tests(
        "--dir", FAILING_DIR, "--filter", "fails_with_message", "--junit", str(junit), timeout=300
    )
    assert proc.returncode == 1, _explain(proc)
    assert _last_line(proc.stdout) == "0 passed, 1 failed", _explain(proc)
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "1"
    assert suite.get("failures") == "1"
    (case,) = suite.iter("testcase")
    assert case.get("name") == "test_fails_with_message"
    failure = case.find("failure")
    assert failure is not None
    assert "deliberate failure" in (failure.get("message") or "")


def test_filter_matching_nothing_fails(godot: Godot) -> None:
    proc = godot.run_tests("--filter", "no_such_test_anywhere", timeout=300)
    assert proc.returncode == 1, _explain(proc)
    assert "FAIL discovery: no tests found" in proc.stdout
    assert _last_line(proc.stdout) == "0 passed, 1 failed"


def test_missing_root_gives_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "PLANETARY_GODOT_ROOT": str(tmp_path / "absent")}
    proc = subprocess.run(
        [str(GODOT), "--version"], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 127
    assert "run tools/install_godot.sh" in proc.stderr
