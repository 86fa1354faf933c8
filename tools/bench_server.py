"""Server benchmark (issue 3, section 8): N bots against one ``planet-server`` process.

    .venv/bin/python tools/bench_server.py --counts 25 50 100 --duration 40

For each N: a fresh data directory, a server subprocess on a free loopback port (20 TPS),
one ``planet-bot`` subprocess with N bots for ``--duration`` seconds. Measured in the steady
window (after ``--warmup`` seconds): tick duration p50/p99 and achieved TPS (from the
server's ``tick_stats`` log lines), edit -> other clients latency p50/p99 and bytes per
second per client (from the bots), server CPU (from /proc). Prints a table and a Markdown
block for docs/performance.md. Bounded: every run stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def bots_cpu(pid: int) -> float:
    """CPU seconds of the bot process and its direct children (``--procs``)."""
    total = cpu_seconds(pid)
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with contextlib.suppress(OSError):  # the child may have exited
            total += cpu_seconds(int(child))
    return total


class Server:
    """A server subprocess whose JSON log lines are collected."""

    def __init__(self, data_dir: Path, extra_env: dict[str, str]) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), **extra_env)
        self.lines: list[dict[str, Any]] = []
        self.ready = threading.Event()
        self.port = 0
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--single", "--data", str(data_dir),
             "--port", "0", "--world-seed", "1"], cwd=ROOT, env=env, stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._pump, daemon=True).start()
        if not self.ready.wait(20):
            self.proc.kill()
            raise RuntimeError("server did not become ready")

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            rec["_t"] = time.time()
            self.lines.append(rec)
            if rec.get("event") == "ready":
                self.port = int(rec["port"])
                self.ready.set()

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)


def run_one(n: int, args: argparse.Namespace) -> dict[str, Any]:
    """One benchmark run with ``n`` bots; returns its figures."""
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        srv = Server(Path(tmp) / "data", {"PLANET_STATS_INTERVAL_S": "2",
                                          "PLANET_MAX_PLAYERS": str(max(256, n)),
                                          "PLANET_DELTA_PUSH": args.delta_push})
        bot_cmd = [sys.executable, "-m", "server.client.bot", "--url",
                   f"ws://127.0.0.1:{srv.port}", "--count", str(n), "--duration",
                   str(args.duration), "--warmup", str(args.warmup), "--spread",
                   str(args.spread), "--edit-interval", str(args.edit_interval),
                   "--transform-hz", str(args.transform_hz), "--procs", str(args.bot_procs),
                   "--json"]
        t_start = time.time()
        bots = subprocess.Popen(bot_cmd, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                                stdout=subprocess.PIPE, text=True)
        time.sleep(args.warmup)
        t_w, cpu_w = time.time(), cpu_seconds(srv.proc.pid)
        bots_cpu_w = bots_cpu(bots.pid)
        time.sleep(max(0.0, args.duration - args.warmup - 1.0))
        t_e, cpu_e = time.time(), cpu_seconds(srv.proc.pid)
        bots_cpu_e = bots_cpu(bots.pid)
        out, _ = bots.communicate(timeout=args.duration + 60)
        rc = srv.stop()
        summary = json.loads(out.strip().splitlines()[-1])
        window = [r for r in srv.lines if r.get("event") == "tick_stats"
                  and t_w + 1.0 <= r["_t"] <= t_e + 0.5]
        if not window:
            window = [r for r in srv.lines if r.get("event") == "tick_stats"]
        return {
            "bots": n,
            "delta_push": args.delta_push,
            "spread_m": args.spread,
            "joined": summary["joined"],
            "tps": round(statistics.mean(r["tps"] for r in window), 2),
            "tick_p50_ms": round(statistics.median(r["tick_p50_ms"] for r in window), 2),
            "tick_p99_ms": round(max(r["tick_p99_ms"] for r in window), 2),
            "tick_max_ms": round(max(r["tick_max_ms"] for r in window), 2),
            "overruns": window[-1]["overruns"],
            "server_edit_to_push_ms_p50": round(statistics.median(
                r["edit_to_push_p50_ms"] for r in window if r["edit_to_push_samples"]), 2),
            "server_edit_to_push_ms_p99": round(max(
                r["edit_to_push_p99_ms"] for r in window if r["edit_to_push_samples"]), 2),
            "edit_to_peer_ms_p50": summary["edit_to_peer_ms_p50"],
            "edit_to_peer_ms_p99": summary["edit_to_peer_ms_p99"],
            "edit_to_peer_samples": summary["edit_to_peer_samples"],
            "edit_rtt_ms_p50": summary["edit_rtt_ms_p50"],
            "edit_rtt_ms_p99": summary["edit_rtt_ms_p99"],
            "steady_in_B_per_client_s": summary["steady_bytes_in_per_client_per_s"],
            "steady_out_B_per_client_s": summary["steady_bytes_out_per_client_per_s"],
            "avg_in_B_per_client_s": summary["bytes_in_per_client_per_s"],
            "server_cpu_pct": round(100 * (cpu_e - cpu_w) / (t_e - t_w), 1),
            "bots_cpu_pct": round(100 * (bots_cpu_e - bots_cpu_w) / (t_e - t_w), 1),
            "ping_ms_p50": summary["ping_ms_p50"],
            "machine_load_avg_1m": float(Path("/proc/loadavg").read_text().split()[0]),
            "bytes_in_share_by_message": summary["bytes_in_share_by_message"],
            "edits_accepted": summary["edits_accepted"],
            "edits_sent": summary["edits_sent"],
            "server_exit": rc,
            "elapsed_s": round(time.time() - t_start, 1),
        }


COLUMNS = [
    ("bots", "bots"), ("tps", "TPS"), ("tick_p50_ms", "tick p50 ms"),
    ("tick_p99_ms", "tick p99 ms"), ("edit_to_peer_ms_p50", "edit->peer p50 ms"),
    ("edit_to_peer_ms_p99", "edit->peer p99 ms"), ("edit_to_peer_samples", "samples"),
    ("server_edit_to_push_ms_p50", "server edit->push p50 ms"),
    ("server_edit_to_push_ms_p99", "server edit->push p99 ms"),
    ("steady_in_B_per_client_s", "in B/s/client (steady)"),
    ("avg_in_B_per_client_s", "in B/s/client (avg incl. join)"),
    ("server_cpu_pct", "server CPU %"), ("bots_cpu_pct", "bots CPU %"),
    ("ping_ms_p50", "bot ping p50 ms"), ("machine_load_avg_1m", "load avg"),
    ("edits_accepted", "edits accepted"),
]


def markdown(rows: list[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    head = "| " + " | ".join(t for _, t in COLUMNS) + " |"
    sep = "|" + "|".join("---:" for _ in COLUMNS) + "|"
    body = ["| " + " | ".join(str(r[k]) for k, _ in COLUMNS) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints JSON lines per run and a Markdown table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--counts", type=int, nargs="+", default=[25, 50, 100])
    p.add_argument("--duration", type=float, default=40.0, help="seconds per run (<= 600)")
    p.add_argument("--warmup", type=float, default=12.0)
    p.add_argument("--spread", type=float, default=150.0)
    p.add_argument("--edit-interval", type=float, default=2.0)
    p.add_argument("--transform-hz", type=float, default=10.0)
    p.add_argument("--bot-procs", type=int, default=1, help="bot processes")
    p.add_argument("--delta-push", choices=["tick", "immediate"], default="tick",
                   help="server setting PLANET_DELTA_PUSH")
    args = p.parse_args(argv)
    if args.duration > 600 or args.warmup >= args.duration:
        p.error("need warmup < duration <= 600")
    rows = []
    for n in args.counts:
        row = run_one(n, args)
        print(json.dumps(row), flush=True)
        rows.append(row)
    print()
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
