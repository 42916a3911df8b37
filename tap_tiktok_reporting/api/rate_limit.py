"""One request-rate limit shared by every request of a run, safe for concurrent senders."""

from __future__ import annotations

import collections
import math
import threading
import time
import typing as t

import requests
from requests.adapters import HTTPAdapter

if t.TYPE_CHECKING:
    from tap_tiktok_reporting.api.connectivity import FirstContact

# TikTok counts requests in a sliding second; any rate+1 consecutive starts 1.1 s apart (not 1)
# keeps late wake-ups and network jitter from pushing rate+1 arrivals into one second. With
# 1.05, a busy two-core machine put 11 requests into one second twice in a 246-request run (a
# thread that wakes 60 ms late starts right before the next one); 1.10 leaves 100 ms a second.
SAFETY_MARGIN = 1.10


class RequestLimiter(t.Protocol):
    """What the run's requests need from a limiter: this process's or one shared by many."""

    def acquire(self) -> None:
        """Block until this caller may start a request."""

    def pause(self, seconds: float) -> None:
        """Start no request for `seconds`."""

    def close(self) -> None:
        """Release what the limiter holds; the run is over."""


class RequestRateLimiter:
    """At most `rate` request starts in any window of 1.1 s: no second ever holds more.

    The window is wider than a second by SAFETY_MARGIN, so any `rate` + 1 consecutive starts
    span at least 1.1 s, as they would evenly spaced 1.1 / rate apart; but the starts within a
    window need not wait for each other. A run's first `rate` requests therefore go out at
    once, and a pipeline that was waiting on answers catches up at once, instead of losing
    a slot for every 110 ms it had nothing to send. (A fractional rate keeps its average: its
    whole part per window, the window shortened to match.)

    Each caller reserves its slot under a lock and sleeps outside it, so several threads can
    wait at once and requests stay in flight concurrently.
    """

    def __init__(
        self,
        requests_per_second: float,
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        if requests_per_second <= 0:
            msg = "requests_per_second must be positive"
            raise ValueError(msg)
        #: Starts allowed in one window, and the window's length in seconds.
        self.burst = max(1, math.floor(requests_per_second))
        self.window = SAFETY_MARGIN * self.burst / requests_per_second
        self._clock = clock
        self._sleep = sleep
        self._slots: collections.deque[float] = collections.deque(maxlen=self.burst)
        self._not_before = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until this caller may start a request."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._not_before)
            if len(self._slots) == self.burst:
                # The start `burst` reservations ago opens this one's window.
                slot = max(slot, self._slots[0] + self.window)
            self._slots.append(slot)
            delay = slot - now
        if delay > 0:
            self._sleep(delay)

    def pause(self, seconds: float) -> None:
        """Start no request for `seconds`: TikTok said the app is over its limit.

        Every caller waits, so requests in flight that were refused together do not retry
        together within the pause; after it, the window's budget applies again.
        """
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)

    def close(self) -> None:
        """Nothing to release: the limiter lives in this process only."""


class StackedLimiter:
    """The run's limiter, then an endpoint's own lower tier: a request needs a slot of both.

    The endpoint's slot is taken last, right before the request goes out, so its requests
    start at that limiter's spacing whatever the wait for the run's slot was. (Taken first, a
    long wait for the run's slot could bunch them up again.)
    """

    def __init__(self, run: RequestLimiter, endpoint: RequestLimiter) -> None:
        self.run = run
        self.endpoint = endpoint

    def acquire(self) -> None:
        """Block until both limiters let this caller start a request."""
        self.run.acquire()
        self.endpoint.acquire()

    def pause(self, seconds: float) -> None:
        """TikTok refused a request as too frequent: it may be either tier, so pause both."""
        self.run.pause(seconds)
        self.endpoint.pause(seconds)

    def close(self) -> None:
        """Nothing of its own: the run closes each limiter."""


#: Connections kept per host by default (requests' own default).
DEFAULT_POOL_CONNECTIONS = 10


_BODY_READ_BYTES = 1 << 20


class RateLimitedAdapter(HTTPAdapter):
    """A requests transport adapter that takes a slot from the shared limiter before each send.

    With a `first_contact` watch, it also records that the run has tried and been answered.
    """

    def __init__(
        self,
        limiter: RequestLimiter,
        first_contact: FirstContact | None = None,
        **kwargs: t.Any,
    ) -> None:
        super().__init__(**kwargs)
        self.limiter = limiter
        self.first_contact = first_contact

    def send(
        self, request: requests.PreparedRequest, stream: bool = False, **kwargs: t.Any
    ) -> requests.Response:
        """Wait for a slot, then send; the body is read here too, unless streamed."""
        self.limiter.acquire()
        if self.first_contact is not None:
            self.first_contact.note_attempt()
        response = super().send(request, stream=True, **kwargs)
        if not stream:
            read_body(response)
        if self.first_contact is not None:
            self.first_contact.note_answer()
        return response


def read_body(response: requests.Response) -> None:
    """Read the whole body into the response, in megabyte reads.

    `Response.content` reads 10 kB at a time: a 1.6 MB report page then costs about twice
    the CPU (some 2.5 µs a row). The read goes through `iter_content`, so its errors are
    requests' own, as they would be from `content`.
    """
    if response._content is False:  # requests' cache of the body, read once
        response._content = b"".join(response.iter_content(_BODY_READ_BYTES)) or b""


def rate_limited_session(
    limiter: RequestLimiter,
    first_contact: FirstContact | None = None,
    connections: int = DEFAULT_POOL_CONNECTIONS,
) -> requests.Session:
    """A new session whose every request, on any scheme, goes through `limiter`.

    `connections` is how many connections to a host it keeps open: one per request in flight.
    """
    session = requests.Session()
    adapter = RateLimitedAdapter(limiter, first_contact, pool_maxsize=connections)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
