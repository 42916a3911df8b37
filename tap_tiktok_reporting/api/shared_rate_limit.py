"""One request budget shared by every tap process that names the same store and key.

TikTok's QPS limit belongs to the developer app, so shards of one app (jobs on one machine or
many) must draw from one budget. The budget lives in PostgreSQL or Redis and is kept by
pyrate-limiter:

- Redis: a GCRA state (`StateBucket` + `RedisStateStore`), one number per key, updated by the
  library's atomic script.
- PostgreSQL: a sliding-window log (`PostgresBucket`), checked and written under a table lock.

Both get the same shape of rate: ONE request per `1.1 / rate` seconds (burst 1), so starts are
evenly spaced across every process. (The in-process limiter lets `rate` starts through together
within a 1.1 s window; its steady rate is the same.) A window of `rate` per second would let
network jitter push rate+1 arrivals into TikTok's sliding second. Time comes from the store's server clock, so
machines whose clocks disagree still space their requests correctly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import math
import re
import threading
import time
import typing as t
from urllib.parse import urlsplit

from singer_sdk.exceptions import ConfigValidationError, RetriableAPIError

from tap_tiktok_reporting.api import rate_limit
from tap_tiktok_reporting.secret_redaction import url_passwords

if t.TYPE_CHECKING:
    from pyrate_limiter import AbstractBucket, Limiter, Rate

#: The budget's name when neither `rate_limit_key` nor `app_id` is set.
DEFAULT_BUDGET_KEY = "tap-tiktok"
#: How long the tap waits for the store to answer, at start and per call.
STORE_TIMEOUT_SECONDS = 10
#: Spacing wider than 1/rate, as the in-process limiter's: with 1.05, three processes on a busy
#: two-core machine put two requests 67 ms apart (not 105) and once 11 into one second; 1.10
#: leaves 100 ms of jitter per second and still uses over 85 % of the budget.
SAFETY_MARGIN = rate_limit.SAFETY_MARGIN
#: Prefix of the Redis key holding the budget.
REDIS_KEY_PREFIX = "tap-tiktok:rate-limit:"

StoreKind = t.Literal["postgres", "redis"]

_SCHEMES: dict[str, StoreKind] = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "redis": "redis",
    "rediss": "redis",
}
_LABELS: dict[StoreKind, str] = {"postgres": "PostgreSQL", "redis": "Redis"}
#: Modules each kind of store needs, all installed by the extra of the same name.
_REQUIRED_MODULES: dict[StoreKind, tuple[str, ...]] = {
    "postgres": ("pyrate_limiter", "psycopg", "psycopg_pool"),
    "redis": ("pyrate_limiter", "redis"),
}
_URL_EXAMPLE = "postgresql://user:password@host:5432/database or redis://host:6379/0"
_QUERY_PASSWORD = re.compile(r"(?i)(\bpassword=)[^&#]*")


class RateLimitStoreError(ConfigValidationError):
    """The store cannot hold the budget (wrong URL, driver missing, unreachable): one line."""

    def __init__(self, line: str) -> None:
        super().__init__(line, errors=[line])


class RateLimitStoreUnavailable(RetriableAPIError):
    """The store stopped answering during the run: the request waits and is retried."""


@dataclasses.dataclass(frozen=True)
class RateLimitStore:
    """Where the shared budget lives: a PostgreSQL or Redis URL."""

    url: str
    kind: StoreKind

    @classmethod
    def from_url(cls, url: str) -> RateLimitStore:
        """The store `url` names, or a refusal naming the setting and the fix."""
        scheme = urlsplit(url.strip()).scheme.lower()
        kind = _SCHEMES.get(scheme)
        if kind is None:
            raise RateLimitStoreError(
                f"rate_limit_store {masked_url(url)!r} is not a PostgreSQL or Redis URL: "
                f"write it like {_URL_EXAMPLE}"
            )
        return cls(url.strip(), kind)

    @property
    def label(self) -> str:
        """`PostgreSQL` or `Redis`."""
        return _LABELS[self.kind]

    @property
    def shown(self) -> str:
        """The URL as it may be printed: without its password."""
        return masked_url(self.url)

    def reason(self, exc: BaseException) -> str:
        """The first line of a driver's error message, with this URL's password masked."""
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        text = lines[0] if lines else type(exc).__name__
        for secret in url_passwords(self.url):
            text = text.replace(secret, "***")
        return text


def masked_url(url: str) -> str:
    """`url` with the password of its user part and any `password=` query value masked."""
    scheme, sep, rest = url.partition("://")
    if sep:
        netloc, slash, tail = rest.partition("/")
        userinfo, at, host = netloc.rpartition("@")
        if at and ":" in userinfo:
            netloc = f"{userinfo.partition(':')[0]}:***@{host}"
        rest = netloc + slash + tail
    return _QUERY_PASSWORD.sub(r"\1***", f"{scheme}{sep}{rest}")


def budget_key(config: t.Mapping[str, t.Any]) -> str:
    """The budget's name: `rate_limit_key`, else the app id, else one fixed name."""
    for name in ("rate_limit_key", "app_id"):
        value = config.get(name)
        if value is not None and str(value).strip():
            return str(value).strip()
    return DEFAULT_BUDGET_KEY


def spacing_interval_ms(requests_per_second: float) -> int:
    """Milliseconds between two request starts: `rate` a second, less the safety margin."""
    if requests_per_second <= 0:
        msg = "requests_per_second must be positive"
        raise ValueError(msg)
    return max(1, math.ceil(SAFETY_MARGIN * 1000 / requests_per_second))


class SharedRateLimiter:
    """Spaces request starts across every process using the same store and key.

    Same interface as `RequestRateLimiter`. Within a process, one thread at a time asks the
    store (the others queue locally), so the store sees one waiter per process however many
    requests are in flight; a request in flight holds nothing.
    """

    def __init__(
        self,
        limiter: Limiter,
        store: RateLimitStore,
        key: str,
        store_errors: tuple[type[BaseException], ...],
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.key = key
        self._limiter = limiter
        self._store_errors = store_errors
        self._clock = clock
        self._sleep = sleep
        self._turn = threading.Lock()
        self._pause_lock = threading.Lock()
        self._paused_until = 0.0

    def acquire(self) -> None:
        """Block until this caller may start a request."""
        with self._turn:
            with self._pause_lock:
                delay = self._paused_until - self._clock()
            if delay > 0:
                self._sleep(delay)
            try:
                admitted = self._limiter.try_acquire(self.key)
            except self._store_errors as exc:
                raise RateLimitStoreUnavailable(
                    f"rate_limit_store {self.store.shown} did not answer "
                    f"({self.store.reason(exc)}): check that the {self.store.label} server is up"
                ) from None
        if not admitted:  # only when one request could never fit, which the rate rules out
            msg = f"the shared request budget {self.key!r} refused a request"
            raise RuntimeError(msg)

    def pause(self, seconds: float) -> None:
        """Start no request from this process for `seconds`: TikTok said the app is over its limit.

        Other processes pause too when TikTok refuses their requests; meanwhile they keep
        within the shared budget.
        """
        with self._pause_lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def close(self) -> None:
        """Stop the library's background cleaning and close the connections to the store."""
        # The run is over: an unreachable store must not turn it into a failure.
        with contextlib.suppress(*self._store_errors):
            self._limiter.close()


def open_shared_limiter(url: str, key: str, requests_per_second: float) -> SharedRateLimiter:
    """A limiter drawing on the budget `key` in the store at `url`, checked to be reachable."""
    store = RateLimitStore.from_url(url)
    _import_drivers(store)
    from pyrate_limiter import Limiter, Rate

    rate = Rate(1, spacing_interval_ms(requests_per_second), burst=1)
    if store.kind == "postgres":
        bucket, errors = _postgres_bucket(store, key, rate)
    else:
        bucket, errors = _redis_bucket(store, key, rate)
    # buffer_ms=0: a waiter retries the moment its slot opens, not 50 ms after.
    return SharedRateLimiter(Limiter(bucket, buffer_ms=0), store, key, errors)


def _import_drivers(store: RateLimitStore) -> None:
    """Refuse, naming the extra to install, when a module the store needs is missing."""
    for module in _REQUIRED_MODULES[store.kind]:
        try:
            importlib.import_module(module)
        except ImportError:
            raise RateLimitStoreError(
                f"rate_limit_store is a {store.label} URL, but the {store.label} support is not "
                f"installed ({module} is missing): pip install "
                f"'tap-tiktok-reporting[{store.kind}]'"
            ) from None


def _unreachable(store: RateLimitStore, exc: BaseException) -> RateLimitStoreError:
    """The refusal for a store that does not answer, or refuses the connection or the budget."""
    return RateLimitStoreError(
        f"rate_limit_store {store.shown} cannot hold the request budget ({store.reason(exc)}): "
        f"check that the {store.label} server is up and that the URL's host, port, user, "
        "password and database are right"
    )


def postgres_table_name(key: str) -> str:
    """The budget's table (pyrate-limiter prefixes `ratelimit___`), whatever the key holds.

    Readable part first, then a digest of the whole key, so that keys differing only in case,
    punctuation or beyond the length PostgreSQL keeps in a name stay apart.
    """
    readable = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")[:24]
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"tap_tiktok_{readable}_{digest}" if readable else f"tap_tiktok_{digest}"


def _postgres_bucket(
    store: RateLimitStore, key: str, rate: Rate
) -> tuple[AbstractBucket, tuple[type[BaseException], ...]]:
    """The budget as a sliding-window log in a PostgreSQL table, on a small connection pool."""
    import psycopg
    import psycopg_pool
    from pyrate_limiter import PostgresBucket

    errors: tuple[type[BaseException], ...] = (psycopg.Error, psycopg_pool.PoolTimeout)
    # One plain connection first: its failure is the clear one (the pool only retries).
    try:
        with psycopg.connect(store.url, connect_timeout=STORE_TIMEOUT_SECONDS):
            pass
    except psycopg.Error as exc:
        raise _unreachable(store, exc) from None
    # Two connections: the limiter's (one caller at a time) and the library's cleaning thread.
    pool = psycopg_pool.ConnectionPool(
        store.url,
        min_size=1,
        max_size=2,
        open=True,
        timeout=STORE_TIMEOUT_SECONDS,
        name="tap-tiktok-rate-limit",
    )
    try:
        return PostgresBucket(pool, postgres_table_name(key), [rate]), errors
    except errors as exc:
        pool.close()
        raise _unreachable(store, exc) from None


def _redis_bucket(
    store: RateLimitStore, key: str, rate: Rate
) -> tuple[AbstractBucket, tuple[type[BaseException], ...]]:
    """The budget as one GCRA state in Redis, kept by the library's atomic script."""
    import redis
    from pyrate_limiter import RedisStateStore, StateBucket
    from pyrate_limiter.abstracts.algorithm import GCRA

    errors: tuple[type[BaseException], ...] = (redis.RedisError,)
    try:
        client = redis.Redis.from_url(
            store.url,
            socket_connect_timeout=STORE_TIMEOUT_SECONDS,
            socket_timeout=STORE_TIMEOUT_SECONDS,
        )
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise _unreachable(store, exc) from None
    bucket = StateBucket(
        [rate],
        algorithm=GCRA(),
        store=RedisStateStore(client, REDIS_KEY_PREFIX + key),
        clock=RedisServerClock(client),
    )
    return bucket, errors


class RedisServerClock:
    """Milliseconds by the Redis server's clock: one time for every machine sharing the budget.

    A pyrate-limiter clock (it has the `now()` of `AbstractClock`), defined without importing
    the library, which only the extras install.
    """

    def __init__(self, client: t.Any) -> None:
        self._client = client

    def now(self) -> int:
        """The server's time (`TIME`), in milliseconds since the epoch."""
        seconds, microseconds = self._client.time()
        return int(seconds) * 1000 + int(microseconds) // 1000
