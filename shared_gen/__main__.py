"""Command line: ``python -m shared_gen {system,chunk-hash,golden} ...``.

Exit codes: 0 success; 2 bad arguments (one line on stderr naming the limit).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .constants import SEED_MAX
from .encoding import chunk_hash
from .golden import write_golden
from .planet import generate_chunk
from .solar_system import generate_solar_system


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(2)


_INT = re.compile(r"[+-]?[0-9]+")


def _parse_int(text: str) -> int:
    """Plain ASCII decimal integer (no underscores, no non-ASCII digits)."""
    if not _INT.fullmatch(text.strip()):
        raise ValueError(text)
    return int(text.strip(), 10)


def _seed(text: str) -> int:
    try:
        v = _parse_int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"seed must be an integer in [0, {SEED_MAX}], got {text!r}") from None
    if not 0 <= v <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"seed must be in [0, {SEED_MAX}], got {v}")
    return v


def _int(text: str) -> int:
    try:
        return _parse_int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _chunk(text: str) -> tuple[int, int, int]:
    parts = text.split(",")
    try:
        if len(parts) != 3:
            raise ValueError
        x, y, z = (_parse_int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"chunk must be three integers X,Y,Z, got {text!r}") from None
    return (x, y, z)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m shared_gen", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    s = sub.add_parser("system", help="print the solar system of a seed as JSON")
    s.add_argument("--seed", type=_seed, required=True)
    h = sub.add_parser("chunk-hash", help="print the SHA-256 of a canonical chunk")
    h.add_argument("--seed", type=_seed, required=True)
    h.add_argument("--planet", type=_int, required=True)
    h.add_argument("--chunk", type=_chunk, required=True, metavar="X,Y,Z")
    g = sub.add_parser("golden", help="write golden vectors for the client port")
    g.add_argument("--out", type=Path, required=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.cmd == "system":
            d = generate_solar_system(args.seed).to_dict()
            print(json.dumps(d, sort_keys=True, separators=(",", ":")))
        elif args.cmd == "chunk-hash":
            print(chunk_hash(generate_chunk(args.seed, args.planet, args.chunk)))
        else:
            for path in write_golden(args.out):
                print(path)
    except ValueError as e:
        sys.stderr.write(f"error: {e}\n")
        return 2
    except OSError as e:
        sys.stderr.write(f"error: cannot write {e.filename}: {e.strerror}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
