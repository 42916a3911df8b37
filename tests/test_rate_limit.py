"""The shared limiter: even spacing, one budget across threads, and a real server's view of it."""

from __future__ import annotations

import threading
import time

import pytest

from tap_tiktok_reporting.rate_limit import RequestRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_requests_are_spaced_so_no_second_holds_more_than_the_rate():
    clock = FakeClock()
    limiter = RequestRateLimiter(10, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(35):
        limiter.acquire()
        starts.append(clock())
    for i, start in enumerate(starts):
        in_window = [s for s in starts[i:] if s < start + 1.0]
        assert len(in_window) <= 10
    # ...and the limiter does not waste the budget: 35 requests take about 3.5 s, not more.
    assert starts[-1] - starts[0] == pytest.approx(34 * limiter.interval)
    assert limiter.interval < 0.11


def test_idle_time_is_not_banked_into_a_burst():
    clock = FakeClock()
    limiter = RequestRateLimiter(5, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.sleep(60)  # a long pause (a slow response, say)
    starts = []
    for _ in range(6):
        limiter.acquire()
        starts.append(clock())
    assert sum(1 for s in starts if s < starts[0] + 1.0) <= 5


def test_threads_share_one_budget():
    limiter = RequestRateLimiter(50)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            limiter.acquire()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    assert len(starts) == 40
    # One shared budget: 40 starts take 39 slots (one slot of scheduling slack allowed); four
    # private budgets would finish in about 9.
    assert starts[-1] - starts[0] >= 38 * limiter.interval


def test_rate_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        RequestRateLimiter(0)
