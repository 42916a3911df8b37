"""The page fetcher on its own: order, requests in flight, bounded look-ahead, errors."""

from __future__ import annotations

import random
import threading
import time

import pytest

from tap_tiktok_reporting.api.page_fetcher import Page, PageFetcher


class Source:
    """Listings named by `id`, each with a page count, whose pages name themselves."""

    def __init__(self, page_counts, *, delay=0.0, fail=None, grow=None):
        self.page_counts = dict(page_counts)
        self.delay = delay
        self.fail = fail or set()
        self.grow = grow or {}
        self.calls: list[tuple[str, int]] = []
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, context, number):
        listing = context["id"]
        with self.lock:
            self.calls.append((listing, number))
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            if self.delay:
                time.sleep(random.uniform(0, self.delay))
            if (listing, number) in self.fail:
                raise ValueError(f"{listing} page {number} failed")
            total = self.grow.get((listing, number), self.page_counts[listing])
            return Page(rows=[{"listing": listing, "page": number}], total_pages=total)
        finally:
            with self.lock:
                self.active -= 1


def read_all(fetcher, source, ids):
    out = []
    for context, pages in fetcher.listings(source, ({"id": i} for i in ids)):
        for rows in pages:
            out.extend((context["id"], row["page"]) for row in rows)
    return out


@pytest.fixture
def fetcher():
    pool = PageFetcher(max_in_flight=4)
    yield pool
    pool.close()


def test_pages_come_back_in_reading_order_whatever_the_timing(fetcher):
    counts = {"a": 3, "b": 1, "c": 0, "d": 5, "e": 2}
    source = Source(counts, delay=0.01)
    got = read_all(fetcher, source, counts)
    # An empty listing (total_page 0) still has its one, empty, first page.
    expected = [(i, n) for i, c in counts.items() for n in range(1, max(c, 1) + 1)]
    assert got == expected
    assert sorted(source.calls) == sorted(expected)  # each page asked for once


def test_the_pool_keeps_max_in_flight_requests_going():
    fetcher = PageFetcher(max_in_flight=4)
    # Nothing returns until four fetches wait together: a fetcher that sends fewer at once
    # breaks the barrier (and the test) after its timeout.
    barrier = threading.Barrier(4, timeout=5)

    def fetch(context, number):
        if context["id"] < 4:
            barrier.wait()
        return Page(rows=[{"id": context["id"]}], total_pages=1)

    try:
        got = []
        for _context, pages in fetcher.listings(fetch, ({"id": i} for i in range(10))):
            for rows in pages:
                got.extend(row["id"] for row in rows)
        assert got == list(range(10))
    finally:
        fetcher.close()


def test_a_listings_later_pages_go_out_together_once_the_first_gives_the_count():
    fetcher = PageFetcher(max_in_flight=4)
    barrier = threading.Barrier(3, timeout=5)  # pages 2, 3 and 4 of one listing, at once

    def fetch(context, number):
        if number > 1:
            barrier.wait()
        return Page(rows=[{"page": number}], total_pages=4)

    try:
        pages = [
            row["page"]
            for _, rows in fetcher.listings(fetch, [{"id": 1}])
            for r in rows
            for row in r
        ]
        assert pages == [1, 2, 3, 4]
    finally:
        fetcher.close()


def test_look_ahead_is_bounded_when_the_reader_is_slow(fetcher):
    source = Source({i: 1 for i in range(200)})
    listings = fetcher.listings(source, ({"id": i} for i in range(200)))
    _context, pages = next(listings)
    next(pages)
    time.sleep(0.2)  # let every submitted page finish
    assert len(source.calls) <= fetcher.max_pages_ahead + 1
    listings.close()


def test_a_failed_page_raises_when_read_after_the_pages_before_it(fetcher):
    source = Source({"a": 2, "b": 4, "c": 1}, fail={("b", 3)})
    got = []
    with pytest.raises(ValueError, match="b page 3 failed"):
        for context, pages in fetcher.listings(source, ({"id": i} for i in "abc")):
            for rows in pages:
                got.extend((context["id"], row["page"]) for row in rows)
    assert got == [("a", 1), ("a", 2), ("b", 1), ("b", 2)]


def test_a_page_count_that_grows_while_paging_is_followed(fetcher):
    source = Source({"a": 2, "b": 1}, grow={("a", 2): 3})
    assert read_all(fetcher, source, "ab") == [("a", 1), ("a", 2), ("a", 3), ("b", 1)]


def test_stopping_early_cancels_what_has_not_started():
    fetcher = PageFetcher(max_in_flight=1)
    source = Source({i: 1 for i in range(50)}, delay=0.01)
    listings = fetcher.listings(source, ({"id": i} for i in range(50)))
    _context, pages = next(listings)
    list(pages)
    listings.close()
    fetcher.close()
    # Closing drops the queued pages: only the look-ahead budget was ever fetched.
    assert len(source.calls) <= fetcher.max_pages_ahead + 1


def test_in_flight_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        PageFetcher(max_in_flight=0)
