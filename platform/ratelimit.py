"""A rate limit per user: cost points a minute, spent by each request's document cost.

Every user and every municipal system (a user too: its client's subject) has a token
bucket that holds a minute's points and refills continuously. A request takes its
document's cost (schema/cost.py) before its transaction opens; a bucket that cannot pay is
refused with RATE_LIMITED and the seconds until it can. So one user's flood of heavy
documents is refused within a few requests, and the others' answers do not wait behind it.

Across server processes: the deployment's limit is split evenly, each of `processes`
processes holding `1/processes` of every bucket (`kizuna serve --workers N` counts each
of its workers: platform/serving.py `worker_share`). Connections are spread over the
processes by the kernel, so a user's share in each follows their share of its requests; a
client on one keep-alive connection meets one process's share only (refused earlier,
never later). No bucket state is shared and no request pays a database round trip for it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

SECONDS_PER_MINUTE = 60.0


class RateLimiter:
    def __init__(
        self,
        points_per_minute: int,
        *,
        processes: int = 1,
        max_tracked: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if points_per_minute <= 0 or processes <= 0:
            raise ValueError("the rate limit and the number of processes must be positive")
        self.capacity = points_per_minute / processes
        self._refill_per_second = self.capacity / SECONDS_PER_MINUTE
        # (tokens, when they were counted) per user; the least recently seen are dropped
        # first, and a dropped bucket comes back full, as an idle user's would be.
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self._max_tracked = max_tracked
        self._clock = clock

    def take(self, user: tuple[str, str], cost: int) -> float | None:
        """Spend `cost` points of `user`'s bucket: None when it could pay, otherwise the
        seconds after which it can (nothing is spent then). A cost above a full bucket
        costs the full bucket, so every document that the cost limit admits can run."""
        now = self._clock()
        tokens, counted_at = self._buckets.pop(user, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - counted_at) * self._refill_per_second)
        price = min(float(cost), self.capacity)
        if tokens >= price:
            self._remember(user, tokens - price, now)
            return None
        self._remember(user, tokens, now)
        return (price - tokens) / self._refill_per_second

    def remaining(self, user: tuple[str, str]) -> int:
        """The points `user` may still spend now (for the response's extensions)."""
        tokens, counted_at = self._buckets.get(user, (self.capacity, self._clock()))
        return int(min(self.capacity, tokens + (self._clock() - counted_at) * self._refill_per_second))

    def _remember(self, user: tuple[str, str], tokens: float, now: float) -> None:
        self._buckets[user] = (tokens, now)
        if len(self._buckets) > self._max_tracked:
            self._buckets.popitem(last=False)
