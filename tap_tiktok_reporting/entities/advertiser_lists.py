"""Streams read as one full list per advertiser (no bookmark), in pages of at most a limit."""

from __future__ import annotations

import typing as t

from tap_tiktok_reporting.api.client import AdvertiserPartitionedStream
from tap_tiktok_reporting.entities.streams import ConvertedStream

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context


class AdvertiserListStream(AdvertiserPartitionedStream, ConvertedStream):
    """One listing per advertiser, full table; each row carries its advertiser."""

    replication_key = None
    #: TikTok's largest page for the endpoint.
    max_page_size: int = 100

    def page_size_for(self, context: Context | None) -> int:
        """The `page_size` setting, within TikTok's limit for the endpoint."""
        return min(super().page_size_for(context), self.max_page_size)

    def request_params(self, context: Context | None) -> dict[str, t.Any]:
        """The advertiser, and no filter: the whole list."""
        return {"advertiser_id": (context or {})["advertiser_id"]}

    def listings(self, partition: Context) -> t.Iterable[dict[str, t.Any]]:
        """One list per advertiser."""
        return [dict(partition)]

    def page_rows(self, response: requests.Response, context: Context) -> list[dict[str, t.Any]]:
        """The page's rows, each with its advertiser."""
        advertiser_id = str(context["advertiser_id"])
        return [{**row, "advertiser_id": advertiser_id} for row in self.parse_response(response)]
