"""Network failures: whether the run has ever reached the API, and what a failure tells the user.

A run that has never had an answer (a wrong `api_base_url`, a proxy that is down) gives up on
connection failures after `FIRST_CONTACT_SECONDS` instead of the full retry budget: retrying
five minutes against a closed port helps nobody. Once anything has answered, network failures
are transient like the rest and keep the full `max_retry_seconds`.
"""

from __future__ import annotations

import threading
import time
import typing as t
from urllib.parse import urlsplit

import backoff
import requests
import urllib3.exceptions

from tap_tiktok_reporting.api.errors import ErrorDetails, TikTokAPIError, TikTokTransientError

#: How long a run that has never had an answer keeps trying to connect.
FIRST_CONTACT_SECONDS = 20.0
#: Longest wait between connection attempts before the first answer, to keep that deadline.
WAIT_BEFORE_FIRST_CONTACT_MAX_SECONDS = 4.0
#: Longest wait for a TCP connection to open (a whole response may take `request_timeout`).
CONNECT_TIMEOUT_MAX_SECONDS = 10.0

NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    ConnectionResetError,
)
_CONNECT_HINT = "check api_base_url, or HTTPS_PROXY if you use a proxy"


class FirstContact:
    """Whether any request of the run has had an answer, and since when the run has tried.

    One instance per run, shared by every session (streams and token refreshes).
    """

    def __init__(
        self,
        patience_seconds: float = FIRST_CONTACT_SECONDS,
        clock: t.Callable[[], float] = time.monotonic,
    ) -> None:
        self.patience_seconds = patience_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._first_attempt: float | None = None
        self._answered = False

    @property
    def answered(self) -> bool:
        """Whether any response (of any status) has arrived in this run."""
        return self._answered

    def note_attempt(self) -> None:
        """A request is about to be sent."""
        with self._lock:
            if self._first_attempt is None:
                self._first_attempt = self._clock()

    def note_answer(self) -> None:
        """A response has arrived."""
        self._answered = True

    def out_of_patience(self) -> bool:
        """Whether the run has tried for longer than its patience without any answer."""
        with self._lock:
            started = self._first_attempt
        if self._answered or started is None:
            return False
        return self._clock() - started >= self.patience_seconds


def retry_waits(
    first_contact: FirstContact, first: float, longest: float
) -> t.Generator[float, None, None]:
    """Exponential waits from `first` up to `longest`; short ones until the run's first answer.

    Kept short before the first answer so that an unreachable API is reported in time.
    """
    for wait in backoff.expo(base=2, factor=first, max_value=longest):
        if first_contact.answered:
            yield wait
        else:
            yield min(wait, WAIT_BEFORE_FIRST_CONTACT_MAX_SECONDS)


def timeouts(request_timeout: float) -> tuple[float, float]:
    """(connect, read) timeouts for requests: connecting never waits longer than 10 s."""
    return min(request_timeout, CONNECT_TIMEOUT_MAX_SECONDS), request_timeout


def network_failure(
    exc: BaseException,
    url: str | None,
    endpoint: str,
    first_contact: FirstContact,
    advertiser_id: str | None = None,
) -> TikTokTransientError | TikTokAPIError:
    """The tap's error for a request that got no response; never carries the URL's query.

    A connection that cannot be made names the host and port; before the run's first answer,
    once patience runs out, it is permanent.
    """
    cause = _connect_failure_cause(exc)
    if cause is None:
        # The exception's own text can carry the URL and its query (app secret).
        details = ErrorDetails(endpoint, f"network failure ({type(exc).__name__})", advertiser_id)
        return TikTokTransientError(details)
    problem = f"cannot connect to {_host_and_port(url)} ({cause})"
    details = ErrorDetails(endpoint, problem, advertiser_id, hint=_CONNECT_HINT)
    if first_contact.out_of_patience():
        return TikTokAPIError(details)
    return TikTokTransientError(details)


def _connect_failure_cause(exc: BaseException) -> str | None:
    """The root cause's name if no connection could be opened (refused, unresolved, timeout)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timeout"
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return None
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if not isinstance(
        reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ProxyError)
    ):
        return None
    root: BaseException = reason
    for _ in range(10):  # exception chains are short; the bound only guards against surprises
        inner = root.__cause__ or root.__context__
        if inner is None:
            break
        root = inner
    return type(root).__name__


def _host_and_port(url: str | None) -> str:
    """`host:port` of a URL, the scheme's default port filled in."""
    parts = urlsplit(url or "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname or '?'}:{port}"
