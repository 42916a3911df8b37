"""Per-app QPS limiting over a sliding one-second window."""

from __future__ import annotations

import time
from collections import deque


class SlidingWindowLimiter:
    """Accepts at most `limit` requests in any 1-second window; rejected requests do not count."""

    def __init__(self, limit: int | None, window: float = 1.0) -> None:
        self.limit = limit
        self.window = window
        self.peak = 0
        self._accepted: deque[float] = deque()

    def has_room(self, now: float) -> bool:
        """Whether a request arriving at `now` would be accepted (nothing is recorded)."""
        while self._accepted and self._accepted[0] <= now - self.window:
            self._accepted.popleft()
        return self.limit is None or len(self._accepted) < self.limit

    def try_acquire(self, now: float | None = None) -> bool:
        """Record a request; return False when it exceeds the limit (and must be throttled)."""
        now = time.monotonic() if now is None else now
        while self._accepted and self._accepted[0] <= now - self.window:
            self._accepted.popleft()
        if self.limit is not None and len(self._accepted) >= self.limit:
            return False
        self._accepted.append(now)
        self.peak = max(self.peak, len(self._accepted))
        return True

    def reset_peak(self) -> None:
        """Forget the recorded peak (the window itself keeps running)."""
        self.peak = len(self._accepted)
