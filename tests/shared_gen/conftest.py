"""Fixtures of the shared_gen tests.

``tests/`` is on ``sys.path`` (the top-level conftest imports ``godot_support`` from it), so
this directory is importable as a *namespace package* called ``shared_gen`` and shadows
the real package whenever the repository root is not on ``sys.path`` (``.venv/bin/pytest``
rather than ``python -m pytest``): the editable install provides ``shared_gen`` through a
meta-path finder that is consulted only after ``sys.path``. Putting the repository root
first keeps ``import shared_gen`` pointing at the sources (as ``tests/server/conftest.py``
does), and a namespace ``shared_gen`` already imported by an earlier test directory is
dropped so that the next import finds the real one.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
_mod = sys.modules.get("shared_gen")
if _mod is not None and getattr(_mod, "__file__", None) is None:  # a namespace package
    for _name in [m for m in sys.modules if m == "shared_gen" or m.startswith("shared_gen.")]:
        del sys.modules[_name]
