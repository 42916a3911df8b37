"""Requests in flight: the one place that decides how many pages are fetched at once, and which.

Streams describe what they need as an ordered series of listings (one paginated query each: an
advertiser's objects, a report window) and read the pages back in exactly that order. Behind
that, a pool of threads fetches ahead: the rest of a listing's pages as soon as its first page
gives `total_page`, and the first pages of the listings that follow (later windows, later
advertisers). Two numbers bound it:

- `max_in_flight`: requests sent at once (threads). The shared rate limiter spaces their starts,
  so the pool only needs to cover the latency: about `max_requests_per_second` x seconds per
  request.
- `max_pages_ahead`: pages fetched or being fetched but not yet read by the stream
  (twice `max_in_flight`, plus a few, by default), so memory stays bounded however long the
  run.

Only HTTP, retries and checking each answer run on the pool's threads; the stream's own work
(decoding and typing rows, writing records and state) stays on the caller's thread, in order.
A page waiting to be read holds its response, not its records. Output is therefore
the same, record for record, as a sequential run.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import queue
import threading
import typing as t

Context = t.Mapping[str, t.Any]
T = t.TypeVar("T")

# Pages the look-ahead holds beyond twice `max_in_flight` (see `PageFetcher.max_pages_ahead`).
_SPARE_PAGES = 4


@dataclasses.dataclass(frozen=True)
class Page:
    """One page of a listing: its rows and the listing's page count as this page reported it.

    `rows` may be a function that makes them, called when the stream reads the page: a page
    waiting in the look-ahead then holds its response, not its records.
    """

    rows: list[dict[str, t.Any]] | t.Callable[[], list[dict[str, t.Any]]]
    total_pages: int

    def read(self) -> list[dict[str, t.Any]]:
        """The page's rows (made now, on the reader's thread, if they are deferred)."""
        return self.rows() if callable(self.rows) else self.rows


#: Fetches page `number` (from 1) of the listing described by `context`, retries included.
PageFetch = t.Callable[[Context, int], Page]


@dataclasses.dataclass
class _ListingProgress:
    """What has been asked for, and learnt, about one listing."""

    context: Context
    futures: dict[int, concurrent.futures.Future[Page]] = dataclasses.field(default_factory=dict)
    total_pages: int | None = None  # known once the first page is in
    next_page: int = 1  # the next page number to submit

    def learn_total(self) -> None:
        """Read the page count off the first page once it has arrived (1 if it failed)."""
        first = self.futures.get(1)
        if self.total_pages is None and first is not None and first.done():
            failed = first.cancelled() or first.exception() is not None
            self.total_pages = 1 if failed else max(1, first.result().total_pages)

    @property
    def fully_submitted(self) -> bool:
        """Whether every known page has been asked for."""
        return self.total_pages is not None and self.next_page > self.total_pages


class _DaemonPool:
    """Threads that run submitted calls; daemon threads, so a failed run exits at once.

    (A `ThreadPoolExecutor` joins its threads at exit, which would keep a stopped run alive
    while other requests sit in their retry back-off.)
    """

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._tasks: queue.SimpleQueue[tuple[concurrent.futures.Future, t.Callable, tuple] | None]
        self._tasks = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, fn: t.Callable[..., t.Any], *args: t.Any) -> concurrent.futures.Future:
        """Run `fn(*args)` on a pool thread."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._tasks.put((future, fn, args))
        with self._lock:
            if len(self._threads) < self._size:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            future, fn, args = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the reader, who raises it
                future.set_exception(exc)

    def shutdown(self) -> None:
        """Drop the calls not started; let the threads end once they finish the others."""
        with self._lock:
            while True:
                try:
                    task = self._tasks.get_nowait()
                except queue.Empty:
                    break
                if task is not None:
                    task[0].cancel()
            for _ in self._threads:
                self._tasks.put(None)
            self._threads.clear()


class PageFetcher:
    """A pool of request threads shared by every stream of the run."""

    def __init__(self, max_in_flight: int, max_pages_ahead: int | None = None) -> None:
        if max_in_flight < 1:
            msg = "max_in_flight must be at least 1"
            raise ValueError(msg)
        self.max_in_flight = max_in_flight
        # First pages of new listings may hold up to `max_in_flight` of it, and the listing
        # being read as many again: its later pages are not stuck behind them.
        self.max_pages_ahead = max(2 * max_in_flight + _SPARE_PAGES, max_pages_ahead or 0)
        self._pool = _DaemonPool(max_in_flight, "tiktok-request")
        self._closed = threading.Event()

    def close(self) -> None:
        """Stop the threads once they are idle; listings still open stop receiving pages.

        A fetch still retrying when the run ends gives up at its next failure (see `closed`).
        """
        self._closed.set()
        self._pool.shutdown()

    @property
    def closed(self) -> bool:
        """Whether the run is over: nobody will read a page fetched from now on."""
        return self._closed.is_set()

    def submit(
        self, fetch: PageFetch, context: Context, number: int
    ) -> concurrent.futures.Future[Page]:
        """Start fetching one page on the pool."""
        return self._pool.submit(fetch, context, number)

    def call(self, requests: t.Callable[[], T]) -> concurrent.futures.Future[T]:
        """Run a call that makes requests on the pool, so they count as requests in flight."""
        return self._pool.submit(requests)

    def listings(
        self, fetch: PageFetch, contexts: t.Iterable[Context]
    ) -> t.Iterator[tuple[Context, t.Iterator[list[dict[str, t.Any]]]]]:
        """Each listing's context with an iterator over its pages' rows, both in order.

        Read each listing's pages before moving to the next one. A page that failed raises its
        error when it is read, not before, so everything read up to it stays valid.
        """
        return _Pipeline(self, fetch, iter(contexts)).run()


class _Pipeline:
    """One ordered series of listings being fetched ahead and read in order."""

    def __init__(
        self, fetcher: PageFetcher, fetch: PageFetch, contexts: t.Iterator[Context]
    ) -> None:
        self._fetcher = fetcher
        self._fetch = fetch
        self._contexts = contexts
        self._listings: collections.deque[_ListingProgress] = collections.deque()
        self._outstanding: set[concurrent.futures.Future[Page]] = set()
        self._ahead = 0  # pages submitted and not yet read

    def run(self) -> t.Iterator[tuple[Context, t.Iterator[list[dict[str, t.Any]]]]]:
        try:
            while True:
                self._pump()
                if not self._listings:
                    return
                listing = self._listings[0]
                yield listing.context, self._pages_of(listing)
                self._discard(self._listings.popleft())
        finally:
            for listing in self._listings:
                self._discard(listing)
            self._listings.clear()

    def _pages_of(self, listing: _ListingProgress) -> t.Iterator[list[dict[str, t.Any]]]:
        number = 1
        while listing.total_pages is None or number <= listing.total_pages:
            page = self._result(listing, number)
            # Forget the page's future everywhere, or its rows stay referenced all run long.
            self._outstanding.discard(listing.futures.pop(number))
            self._ahead -= 1
            # Objects created while paging can raise the page count: follow the newest figure.
            listing.total_pages = max(listing.total_pages or 1, page.total_pages)
            yield page.read()
            number += 1

    def _result(self, listing: _ListingProgress, number: int) -> Page:
        """Page `number` of `listing`, keeping the pool busy while waiting for it."""
        while True:
            self._pump()
            future = listing.futures.get(number)
            if future is None:
                # A page count that grew after the budget went to later listings: ask anyway.
                listing.next_page = number
                future = self._submit(listing)
            if future.done():
                return future.result()
            done, _ = concurrent.futures.wait(
                self._outstanding | {future}, return_when=concurrent.futures.FIRST_COMPLETED
            )
            self._outstanding -= done

    def _pump(self) -> None:
        """Submit pages in reading order while the budgets allow.

        Known pages of started listings may use the whole look-ahead budget; first pages of
        new listings only half of it, so that a listing whose page count turns out large can
        still have its pages fetched together.
        """
        hard, soft = self._fetcher.max_pages_ahead, self._fetcher.max_in_flight
        for listing in self._listings:
            listing.learn_total()
            while listing.total_pages is not None and not listing.fully_submitted:
                if self._ahead >= hard:
                    return
                self._submit(listing)
        while self._ahead < soft:
            context = next(self._contexts, None)
            if context is None:
                return
            listing = _ListingProgress(context)
            self._listings.append(listing)
            self._submit(listing)

    def _submit(self, listing: _ListingProgress) -> concurrent.futures.Future[Page]:
        """Ask for the listing's next page."""
        number = listing.next_page
        future = self._fetcher.submit(self._fetch, listing.context, number)
        listing.futures[number] = future
        listing.next_page = number + 1
        self._outstanding.add(future)
        self._ahead += 1
        return future

    def _discard(self, listing: _ListingProgress) -> None:
        """Forget a listing: cancel what has not started and release its budget."""
        for future in listing.futures.values():
            future.cancel()
            self._outstanding.discard(future)
        self._ahead -= len(listing.futures)
        listing.futures.clear()
