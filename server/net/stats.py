"""Server statistics: tick durations, edit timings, traffic; the ``tick_stats`` log line."""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from typing import Any

from server.logging import log

logger = logging.getLogger("server.net")


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile ``q`` in [0, 1] of an ascending list (0.0 if empty)."""
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[i]


def _ms(v: float) -> float:
    return round(v * 1000, 3)


class ServerStats:
    """Counters and timings, logged every ``interval_s`` seconds as ``tick_stats``.

    Args:
        interval_s: seconds between log lines.
        now: current monotonic time, seconds.
    """

    def __init__(self, interval_s: float, now: float) -> None:
        self.interval_s = interval_s
        self.tick_durations: deque[float] = deque(maxlen=100_000)  # whole run, seconds
        self.overruns = 0
        self.edits_accepted = 0
        self.edits_rejected = 0
        self.bytes_out_total = 0  # of closed sessions
        self.bytes_in_total = 0
        self._interval: list[float] = []
        self._edits: list[float] = []
        self._last = now
        self._cpu_mark = time.process_time()
        self._out_mark = 0
        self._in_mark = 0

    def record_tick(self, seconds: float, overrun: bool) -> None:
        """One tick took ``seconds``; ``overrun`` if it ended after the next was due."""
        self.tick_durations.append(seconds)
        self._interval.append(seconds)
        self.overruns += overrun

    def record_edit(self, seconds: float, accepted: bool) -> None:
        """One edit took ``seconds`` in the world."""
        self._edits.append(seconds)
        if accepted:
            self.edits_accepted += 1
        else:
            self.edits_rejected += 1

    @staticmethod
    def tick_summary(durations: list[float]) -> dict[str, Any]:
        """Count, p50, p99 and max (milliseconds) of tick durations in seconds."""
        d = sorted(durations)
        return {"ticks": len(d), "tick_p50_ms": _ms(percentile(d, 0.5)),
                "tick_p99_ms": _ms(percentile(d, 0.99)), "tick_max_ms": _ms(d[-1] if d else 0)}

    def maybe_log(self, now: float, *, sessions: int, players: int, bytes_out: int,
                  bytes_in: int, push_latencies: list[float]) -> bool:
        """Log ``tick_stats`` if ``interval_s`` has passed; ``bytes_*`` are totals so far
        and ``push_latencies`` (seconds) is cleared. Returns whether it logged."""
        span = now - self._last
        if span < self.interval_s:
            return False
        cpu = time.process_time()
        edits = sorted(self._edits)
        pushes = sorted(push_latencies)
        log(logger, "tick_stats", **self.tick_summary(self._interval),
            tps=round(len(self._interval) / span, 2), overruns=self.overruns,
            sessions=sessions, players=players,
            bytes_out_per_s=round((bytes_out - self._out_mark) / span),
            bytes_in_per_s=round((bytes_in - self._in_mark) / span),
            cpu_percent=round(100 * (cpu - self._cpu_mark) / span, 1),
            edits_accepted=self.edits_accepted, edits_rejected=self.edits_rejected,
            edit_p50_ms=_ms(percentile(edits, 0.5)), edit_p99_ms=_ms(percentile(edits, 0.99)),
            edit_to_push_p50_ms=_ms(percentile(pushes, 0.5)),
            edit_to_push_p99_ms=_ms(percentile(pushes, 0.99)),
            edit_to_push_samples=len(pushes))
        push_latencies.clear()
        self._interval = []
        self._edits = []
        self._out_mark, self._in_mark = bytes_out, bytes_in
        self._cpu_mark = cpu
        self._last = now
        return True
