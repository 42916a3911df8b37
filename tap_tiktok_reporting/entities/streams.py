"""Entity streams: advertisers (full table) and campaigns, ad groups, ads (incremental)."""

from __future__ import annotations

import datetime
import functools
import itertools
import typing as t

from tap_tiktok_reporting.api.client import AdvertiserPartitionedStream, TikTokStream
from tap_tiktok_reporting.conversions import (
    Converter,
    convert_record,
    converters_for,
    parse_utc,
    tiktok_utc_text,
)
from tap_tiktok_reporting.entities.schemas import (
    AD_FIELDS,
    AD_GROUP_FIELDS,
    ADVERTISER_STREAM_FIELDS,
    BUSINESS_CENTER_ID,
    CAMPAIGN_FIELDS,
    schema_of,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

ADVERTISER_INFO_BATCH = 100
TOPVIEW = ("RESERVATION_TOP_VIEW",)
# TikTok returns only AUCTION and RESERVATION_RF objects unless TopView is asked for, alone.
BUYING_TYPE_GROUPS: tuple[tuple[str, ...], ...] = (("AUCTION", "RESERVATION_RF"), TOPVIEW)
# modified_after may be exclusive; one second earlier keeps objects tied with the bookmark.
_MODIFIED_AFTER_SLACK = datetime.timedelta(seconds=1)


class ConvertedStream(TikTokStream):
    """A stream whose rows are converted once, by converters read off its schema."""

    @functools.cached_property
    def converters(self) -> dict[str, Converter]:
        """Timestamp, id and id-list converters for this stream's properties."""
        return converters_for(self.schema)


class AdvertisersStream(ConvertedStream):
    """Every advertiser's account details, from `/advertiser/info/` in batches of 100.

    Each record also says which Business Center the run found the advertiser in, if any.
    """

    name = "advertisers"
    path = "advertiser/info/"
    primary_keys = ("advertiser_id",)
    replication_key = None
    paginated = False
    schema = schema_of(ADVERTISER_STREAM_FIELDS, required=["advertiser_id"])

    def request_params(self, context: Context | None) -> dict[str, t.Any]:
        """The batch of advertiser ids."""
        return {"advertiser_ids": list((context or {}).get("advertiser_ids", []))}

    def fetch_profiles(self) -> t.Iterator[dict[str, t.Any]]:
        """Every advertiser of the run, one request per batch of up to 100 ids."""
        ids = iter(self.tiktok_tap.advertiser_ids)
        while batch := list(itertools.islice(ids, ADVERTISER_INFO_BATCH)):
            for row in self.request_records({"advertiser_ids": batch}):
                yield convert_record(row, self.converters)

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The run's advertiser profiles (fetched once, shared with the report streams)."""
        business_centers = self.tiktok_tap.run_advertisers.business_centers
        for advertiser_id, profile in self.tiktok_tap.advertiser_profiles.items():
            yield {**profile, BUSINESS_CENTER_ID: business_centers.get(advertiser_id)}


class EntityStream(AdvertiserPartitionedStream, ConvertedStream):
    """Objects of one advertiser per partition, incremental on `modify_time` per advertiser.

    `start_date` does not apply: these are dimension tables, so the first run reads every
    object, and later runs emit those modified at or after the advertiser's bookmark.
    """

    replication_key = "modify_time"
    is_sorted = False
    #: Whether the endpoint's filtering accepts `modified_after`.
    filters_modified_after: bool = False
    #: The page size limit TikTok sets for TopView requests of this endpoint.
    topview_max_page_size: int = 1000

    def page_size_for(self, context: Context | None) -> int:
        """TopView requests of some endpoints take smaller pages."""
        if context and tuple(context.get("buying_types", ())) == TOPVIEW:
            return min(super().page_size_for(context), self.topview_max_page_size)
        return super().page_size_for(context)

    def request_params(self, context: Context | None) -> dict[str, t.Any]:
        """Advertiser, buying types, deleted objects if asked for, and `modified_after`."""
        context = context or {}
        filtering: dict[str, t.Any] = {"buying_types": list(context["buying_types"])}
        if self.config.get("include_deleted", True):
            filtering["primary_status"] = "STATUS_ALL"
        if context.get("modified_after"):
            filtering["modified_after"] = context["modified_after"]
        return {"advertiser_id": context["advertiser_id"], "filtering": filtering}

    def listings(self, partition: Context) -> t.Iterable[dict[str, t.Any]]:
        """One query per buying-type group, with `modified_after` once there is a bookmark."""
        context = dict(partition)
        bookmark = self.bookmark(partition)
        if bookmark and self.filters_modified_after:
            context["modified_after"] = tiktok_utc_text(bookmark - _MODIFIED_AFTER_SLACK)
        return [{**context, "buying_types": group} for group in BUYING_TYPE_GROUPS]

    def bookmark(self, partition: Context) -> datetime.datetime | None:
        """The advertiser's `modify_time` bookmark, if any."""
        value = self.get_starting_replication_key_value(partition)
        return parse_utc(str(value)) if value else None

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Every buying type's objects modified at or after the bookmark, and those without time."""
        context = dict(context or {})
        bookmark = self.bookmark(context)
        without_time = 0
        for _listing, pages in self.fetched_listings(context):
            for row in self.unique_rows(itertools.chain.from_iterable(pages), set()):
                record = convert_record(row, self.converters)
                modified = record.setdefault("modify_time", None)
                if modified is None:
                    without_time += 1
                    yield record
                elif bookmark is None or parse_utc(modified) >= bookmark:
                    yield record
        if without_time:
            self.logger.warning(
                "%d %s of advertiser %s have no modify_time; they are emitted on every run",
                without_time,
                self.name,
                context.get("advertiser_id"),
            )


class CampaignsStream(EntityStream):
    """Campaigns, from `/campaign/get/`."""

    name = "campaigns"
    path = "campaign/get/"
    primary_keys = ("campaign_id",)
    schema = schema_of(CAMPAIGN_FIELDS, required=["campaign_id", "advertiser_id"])


class AdGroupsStream(EntityStream):
    """Ad groups, from `/adgroup/get/`."""

    name = "ad_groups"
    path = "adgroup/get/"
    primary_keys = ("adgroup_id",)
    topview_max_page_size = 100
    schema = schema_of(AD_GROUP_FIELDS, required=["adgroup_id", "advertiser_id"])


class AdsStream(EntityStream):
    """Ads, from `/ad/get/`, filtered server-side with `modified_after` once a bookmark exists."""

    name = "ads"
    path = "ad/get/"
    primary_keys = ("ad_id",)
    filters_modified_after = True
    schema = schema_of(AD_FIELDS, required=["ad_id", "advertiser_id"])


ENTITY_STREAM_TYPES: tuple[type[TikTokStream], ...] = (
    AdvertisersStream,
    CampaignsStream,
    AdGroupsStream,
    AdsStream,
)
