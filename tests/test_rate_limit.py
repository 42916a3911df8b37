"""The run's limiter: no second over the rate, one budget across threads and requests."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest

from tap_tiktok_reporting.api.rate_limit import RequestRateLimiter, rate_limited_session
from tap_tiktok_reporting.tap import TapTikTok
from tests.conftest import run_sync, tap_config


class FakeClock:
    """A clock that moves only when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def starts_of(limiter: RequestRateLimiter, clock: FakeClock, count: int) -> list[float]:
    """When each of `count` requests, one after the other, may start."""
    starts = []
    for _ in range(count):
        limiter.acquire()
        starts.append(clock())
    return starts


def most_in_one_second(starts: list[float]) -> int:
    """The most request starts any one-second window holds."""
    return max(sum(1 for s in starts if start <= s < start + 1.0) for start in starts)


def test_no_second_holds_more_than_the_rate_and_none_of_it_is_wasted():
    clock = FakeClock()
    limiter = RequestRateLimiter(10, clock=clock, sleep=clock.sleep)
    starts = starts_of(limiter, clock, 35)
    assert most_in_one_second(starts) <= 10
    # Any 11 consecutive starts are at least 1.1 s apart: 100 ms a second left for jitter.
    assert all(b - a >= 1.1 - 1e-9 for a, b in zip(starts, starts[10:], strict=False))
    # ...and the limiter does not waste the budget: 10 at once, then 10 every 1.1 s, so the
    # 35th starts at 3.3 s (evenly spaced, it would wait until 3.74 s).
    assert starts[:10] == [starts[0]] * 10
    assert starts[-1] - starts[0] == pytest.approx(3.3)


def test_a_fractional_rate_keeps_its_average_and_a_low_one_is_spaced():
    clock = FakeClock()
    limiter = RequestRateLimiter(2.5, clock=clock, sleep=clock.sleep)
    starts = starts_of(limiter, clock, 21)
    assert 20 / (starts[-1] - starts[0]) == pytest.approx(2.5 / 1.1)
    slow = RequestRateLimiter(0.5, clock=clock, sleep=clock.sleep)
    slow.acquire()
    first = clock()
    slow.acquire()
    assert clock() - first == pytest.approx(2.2)


def test_idle_time_is_not_banked_into_a_burst():
    clock = FakeClock()
    limiter = RequestRateLimiter(5, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.sleep(60)  # a long pause (a slow response, say)
    starts = starts_of(limiter, clock, 6)
    assert sum(1 for s in starts if s < starts[0] + 1.0) <= 5


class RecordingSleep:
    """A sleep for a clock that stands still: it records each wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self.lock:
            self.waits.append(seconds)


def run_in_threads(count: int, work: Callable[[], None]) -> None:
    """Run `work` in `count` threads released together; re-raise the first failure."""
    start = threading.Barrier(count)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=5)
            work()
        except BaseException as exc:  # handed back to the test thread
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    if failures:
        raise failures[0]


def test_threads_share_one_budget():
    # The clock stands still, so every caller's slot is exactly now + its wait: 40 callers on
    # four threads must get 10 slots in each of four windows, whatever the interleaving.
    sleep = RecordingSleep()
    limiter = RequestRateLimiter(10, clock=lambda: 100.0, sleep=sleep)

    def ten_requests() -> None:
        for _ in range(10):
            limiter.acquire()

    run_in_threads(4, ten_requests)
    # The first 10 callers go at once (no wait); the others wait one, two or three windows.
    windows = Counter(round(wait / 1.1, 6) for wait in sleep.waits)
    assert windows == {1.0: 10, 2.0: 10, 3.0: 10}


def test_waiting_callers_do_not_hold_up_each_other():
    # Three callers must be able to wait at the same time (requests stay in flight together);
    # a limiter that slept while holding its lock would never let the second one in.
    limiter = RequestRateLimiter(10, clock=lambda: 100.0, sleep=lambda _: all_waiting.wait(5))
    all_waiting = threading.Barrier(3)
    for _ in range(10):
        limiter.acquire()  # take the window's free slots, so the callers below all wait
    run_in_threads(3, limiter.acquire)


class CountingLimiter(RequestRateLimiter):
    """A limiter that counts the slots taken (its clock stands still, so it never waits)."""

    def __init__(self) -> None:
        super().__init__(1000, clock=lambda: 0.0, sleep=lambda _: None)
        self.slots_taken = 0

    def acquire(self) -> None:
        """Count, then take a slot as usual."""
        self.slots_taken += 1
        super().acquire()


def test_a_rate_limited_session_takes_a_slot_before_every_request(api):
    limiter = CountingLimiter()
    url = f"{api.base_url}/campaign/get/"
    with rate_limited_session(limiter) as session:
        for _ in range(4):
            session.get(url, headers={"Access-Token": api.access_token}, timeout=5)
    assert api.count() == 4
    assert limiter.slots_taken == 4


def test_every_request_of_a_run_waits_for_the_one_shared_limiter(api, monkeypatch):
    # Token refresh, advertiser discovery, advertiser profiles, entity and report streams: all
    # their requests must take a slot from one limiter, or the run can exceed the app's QPS.
    # The GMV Max report's requests also take one from its endpoint's own, lower tier.
    slots_by_limiter: Counter[int] = Counter()
    take_slot = RequestRateLimiter.acquire

    def counting_acquire(self: RequestRateLimiter) -> None:
        slots_by_limiter[id(self)] += 1
        take_slot(self)

    monkeypatch.setattr(RequestRateLimiter, "acquire", counting_acquire)
    advertiser_id = api.data.advertisers[0]["advertiser_id"]
    api.data.authorized_advertiser_ids = [advertiser_id]
    config = tap_config(
        api,
        access_token=None,
        refresh_token=api.refresh_token,
        advertiser_ids=None,
        start_date="2025-05-01",
        end_date="2025-05-01",
    )
    streams = list(TapTikTok(config=config, validate_config=False).streams)
    out = run_sync(config, streams=streams)

    assert set(out.records) == set(streams)
    paths = {r.path for r in api.requests}
    assert {"oauth2/refresh_token/", "oauth2/advertiser/get/", "advertiser/info/"} <= paths
    assert {"campaign/get/", "adgroup/get/", "ad/get/", "report/integrated/get/"} <= paths
    assert api.count() > 30
    gmv_max_reports = api.count("gmv_max/report/get/")
    assert gmv_max_reports > 0
    assert sorted(slots_by_limiter.values()) == [gmv_max_reports, api.count()]


def test_rate_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        RequestRateLimiter(0)


def test_a_pause_holds_every_caller_then_the_budget_resumes():
    clock = FakeClock()
    limiter = RequestRateLimiter(10, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    paused_at = clock()
    limiter.pause(1.0)
    starts = starts_of(limiter, clock, 12)
    assert starts[0] == pytest.approx(paused_at + 1.0)
    assert most_in_one_second([paused_at, *starts]) <= 10
    # The window that opened with the pause's end is full after 9 more (the one before the
    # pause counts too): the next ones wait for it to pass.
    assert starts[9] == pytest.approx(paused_at + 1.1)
    limiter.pause(0.0)  # a pause that ends before the next slot changes nothing
    limiter.acquire()
    assert clock() == pytest.approx(starts[2] + 1.1)
