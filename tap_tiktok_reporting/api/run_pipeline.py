"""The run's listings, over every selected stream and advertiser, fetched ahead in sync order.

The SDK syncs streams one after the other and, within a stream, advertisers one after the
other. Planning the listings in that same order, across stream boundaries, keeps the page
fetcher busy while the SDK moves from one stream to the next: the next stream's first pages
are in flight while the last pages of the current one are written.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_tiktok_reporting.api.client import AdvertiserPartitionedStream
    from tap_tiktok_reporting.api.page_fetcher import Page, PageFetcher

Rows = list[dict[str, t.Any]]


class _Listing(t.NamedTuple):
    """One query of the plan: its stream, its context and its partition's place in the plan."""

    stream: AdvertiserPartitionedStream
    context: Context
    place: int


def _fetch(listing: _Listing, number: int) -> Page:
    return listing.stream.fetch_page(listing.context, number)


class RunPipeline:
    """Listings of `streams` (in sync order) from one stream's advertiser on.

    Each (stream, advertiser) partition has a place in the plan. A partition is served while
    the pipeline has not gone past it; a partition with nothing due is served nothing. A
    request for a partition the pipeline has passed, or does not know, needs a new pipeline.
    """

    def __init__(
        self,
        fetcher: PageFetcher,
        streams: t.Sequence[AdvertiserPartitionedStream],
        first: AdvertiserPartitionedStream,
        first_advertiser: str,
    ) -> None:
        runs: list[tuple[AdvertiserPartitionedStream, list[Context], int]] = []
        self._position: dict[tuple[str, str], int] = {}
        for stream in streams[list(streams).index(first) :] if first in streams else [first]:
            stream_partitions = list(stream.partitions)
            if stream is first:
                ids = [p["advertiser_id"] for p in stream_partitions]
                start = ids.index(first_advertiser) if first_advertiser in ids else 0
                stream_partitions = stream_partitions[start:]
            runs.append((stream, stream_partitions, len(self._position)))
            for partition in stream_partitions:
                self._position[(stream.name, partition["advertiser_id"])] = len(self._position)
        plan = (
            _Listing(stream, context, base + index)
            for stream, stream_partitions, base in runs
            for index, context in stream.planned_listings(stream_partitions)
        )
        self._listings = fetcher.listings(_fetch, plan)
        self._read_up_to = -1
        self._next: tuple[_Listing, t.Iterator[Rows]] | None = None
        self._advance()

    def _advance(self) -> None:
        self._next = next(self._listings, None)

    def _next_place(self) -> int | None:
        return None if self._next is None else self._next[0].place

    def serves(self, stream: AdvertiserPartitionedStream, advertiser_id: str) -> bool:
        """Whether this pipeline still holds the partition's listings (maybe none)."""
        place = self._position.get((stream.name, advertiser_id))
        if place is None or place <= self._read_up_to:
            return False
        next_place = self._next_place()
        return next_place is None or next_place >= place

    def take(
        self, stream: AdvertiserPartitionedStream, advertiser_id: str
    ) -> t.Iterator[tuple[Context, t.Iterator[Rows]]]:
        """The partition's listings, each with its pages; later partitions stay queued."""
        place = self._position[(stream.name, advertiser_id)]
        self._read_up_to = place
        while self._next is not None and self._next_place() == place:
            listing, pages = self._next
            yield listing.context, pages
            self._advance()
