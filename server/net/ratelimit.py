"""Token buckets for per-client rate limits (bytes per second, messages per second)."""

from __future__ import annotations


class TokenBucket:
    """Classic token bucket: ``rate`` tokens per second up to ``capacity``.

    Tokens may go negative through :meth:`charge` (a debt repaid before anything else is
    allowed), so a large frame that had to be sent still counts against the budget.

    Args:
        rate: refill, tokens per second (> 0).
        capacity: largest balance (>= 1); the bucket starts full.
        now: current time, seconds (any monotonic clock).

    Raises:
        ValueError: ``rate <= 0`` or ``capacity < 1``.
    """

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be > 0 and capacity >= 1")
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now

    def refill(self, now: float) -> float:
        """Add the tokens earned since the last call; returns the balance."""
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        return self.tokens

    def try_take(self, n: float, now: float) -> bool:
        """Take ``n`` tokens if the balance allows; False (and no change) otherwise."""
        if self.refill(now) >= n:
            self.tokens -= n
            return True
        return False

    def charge(self, n: float) -> None:
        """Take ``n`` tokens unconditionally (the balance may become negative)."""
        self.tokens -= n
