"""CI smoke test of tools/bench_gen.py: ``--quick`` runs and prints every figure.

No timing assertion (figures vary by machine); the measured numbers are in
docs/performance.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_gen_quick_prints_figures() -> None:
    r = subprocess.run([sys.executable, "tools/bench_gen.py", "--quick"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    num = r"[0-9]+(?:\.[0-9]+)?"
    best = rf"ms per surface chunk \(best of 1 per chunk\): median {num}\s+p90 {num}"
    assert re.search(best, out), out
    assert re.search(rf"chunks/s \(one core\): {num}", out), out
    for stage in ("lattice", "upsample + quantize", "materials", "resources"):
        assert re.search(rf"{re.escape(stage)}.*\s{num}\s+\(", out), (stage, out)
    assert re.search(rf"noise samples .*: {num} total", out), out
    assert re.search(rf"opensimplex\.noise3array: {num} ms .* ratio .* = {num}", out), out
