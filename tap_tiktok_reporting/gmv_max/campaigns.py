"""`gmv_max_campaigns`: Product and LIVE GMV Max campaigns of each store, deleted ones too."""

from __future__ import annotations

import functools
import itertools
import typing as t

from tap_tiktok_reporting.api.client import AdvertiserPartitionedStream
from tap_tiktok_reporting.conversions import Converter, convert_record, converters_for
from tap_tiktok_reporting.entities.schemas import schema_of
from tap_tiktok_reporting.gmv_max.rules import (
    CAMPAIGN_FIELDS,
    CAMPAIGN_PATH,
    DELETED_CAMPAIGNS,
    MAX_CAMPAIGN_PAGE_SIZE,
    PROMOTION_TYPES,
)

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context


class GmvMaxCampaignsStream(AdvertiserPartitionedStream):
    """`/gmv_max/campaign/get/`, one query per store, promotion type and deleted-or-not.

    TikTok's rows name neither their store nor their type, so each query asks for one store
    and one type and the records carry both. Without a `primary_status` filter TikTok lists
    the campaigns that are not deleted; deleted ones take a query of their own. Full table:
    a store has few campaigns, and the rows give no way to ask for changes only.
    """

    name = "gmv_max_campaigns"
    path = CAMPAIGN_PATH
    primary_keys = ("campaign_id",)
    replication_key = None
    schema = schema_of(CAMPAIGN_FIELDS, required=["campaign_id", "advertiser_id", "store_id"])

    @functools.cached_property
    def converters(self) -> dict[str, Converter]:
        """Timestamp and id converters read off the schema."""
        return converters_for(self.schema)

    def page_size_for(self, context: Context | None) -> int:
        """TikTok's maximum for this endpoint, or the `page_size` setting if smaller."""
        return min(super().page_size_for(context), MAX_CAMPAIGN_PAGE_SIZE)

    def listings(self, partition: Context) -> t.Iterable[dict[str, t.Any]]:
        """Per reportable store: each promotion type, not deleted then (if wanted) deleted."""
        advertiser_id = str(partition["advertiser_id"])
        statuses: list[str | None] = [None]
        if self.config.get("include_deleted", True):
            statuses.append(DELETED_CAMPAIGNS)
        return [
            {
                **partition,
                "store_id": store_id,
                "promotion_type": promotion.campaign_value,
                "primary_status": status,
            }
            for store_id in self.tiktok_tap.gmv_max_stores.reportable_store_ids(advertiser_id)
            for promotion in PROMOTION_TYPES
            for status in statuses
        ]

    def request_params(self, context: Context | None) -> dict[str, t.Any]:
        """The advertiser, and the store, type and status of the query."""
        context = context or {}
        filtering: dict[str, t.Any] = {
            "gmv_max_promotion_types": [context["promotion_type"]],
            "store_ids": [context["store_id"]],
        }
        if context.get("primary_status"):
            filtering["primary_status"] = context["primary_status"]
        return {"advertiser_id": context["advertiser_id"], "filtering": filtering}

    def page_rows(self, response: requests.Response, context: Context) -> list[dict[str, t.Any]]:
        """The campaigns, each with the store and type it was asked for."""
        labels = {
            "store_id": str(context["store_id"]),
            "gmv_max_promotion_type": context["promotion_type"],
        }
        return [
            convert_record({**row, **labels}, self.converters)
            for row in self.parse_response(response)
        ]

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Every query's campaigns, each campaign once."""
        seen: set[t.Hashable] = set()
        for _listing, pages in self.fetched_listings(dict(context or {})):
            yield from self.unique_rows(itertools.chain.from_iterable(pages), seen)
