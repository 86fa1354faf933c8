"""Shared pytest fixtures and the project's CI rule.

Rule: a test that needs something this machine lacks (Godot, Xvfb, ...) is skipped
locally, but under CI=true every skip is a failure. Use ``require(condition, reason)``
from godot_support for such checks; the hooks below also turn any other skip into a
failure under CI=true.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest
from godot_support import Godot, GodotUnavailableError, ensure_godot, godot_root, in_ci, require

# --- Godot ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def godot() -> Godot:
    """The private Godot root, installed on first use (tools/install_godot.sh)."""
    try:
        version = ensure_godot()
    except GodotUnavailableError as exc:
        problem = str(exc)
    else:
        return Godot(root=godot_root(), version=version)
    require(False, f"Godot unavailable: {problem}")
    raise AssertionError("not reached: require() skips or fails")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "godot: needs the private Godot root")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that use the fixture carry the "godot" marker: -m "not godot" leaves them out.
    for item in items:
        if "godot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.godot)


# --- CI=true: no skips ------------------------------------------------------------------

_collection_skips: list[str] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, which CI=true forbids: {reason}"
    return report


def pytest_collectreport(report: pytest.CollectReport) -> None:
    # Module-level pytest.skip(allow_module_level=True) or importorskip.
    if report.skipped:
        _collection_skips.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if in_ci() and _collection_skips:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"CI=true forbids skips; skipped at collection: {', '.join(_collection_skips)}"
        if reporter is not None:
            reporter.write_line(message, red=True)
        else:
            print(message)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
