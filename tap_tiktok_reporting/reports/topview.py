"""TopView report rows: which reports need a second query, and which advertisers need it.

TikTok serves campaign, ad group and ad report rows of TopView (`RESERVATION_TOP_VIEW`) objects
only to a query whose `buying_type` filter asks for them, alone; advertiser-level rows already
include their spend (facts §17). A report below advertiser level therefore reads each window
twice where the advertiser has TopView objects: once as usual, once with that filter. The two
answers hold disjoint objects, so their rows add up without double counting.

Which advertisers have TopView objects is looked up once per run, with one `campaign/get/`
request per advertiser, all sent as the run starts (one row asked for, TopView campaigns only,
deleted ones included: a TopView ad group or ad always sits in a TopView campaign). A report
waits only for the answer of the advertisers it is planning. An advertiser without any costs
that one request and no extra report request.
"""

from __future__ import annotations

import dataclasses
import typing as t

from singer_sdk import typing as th

from tap_tiktok_reporting.api.client import TikTokStream
from tap_tiktok_reporting.entities.schemas import schema_of
from tap_tiktok_reporting.reports.definitions import ReportDefinition, ReportFilter

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_tiktok_reporting.api.page_fetcher import Page
    from tap_tiktok_reporting.tap import TapTikTok

TOPVIEW = "RESERVATION_TOP_VIEW"
BUYING_TYPE_FILTER = "buying_type"
TOPVIEW_FILTER = ReportFilter(BUYING_TYPE_FILTER, "IN", (TOPVIEW,))


def reads_topview_separately(definition: ReportDefinition) -> bool:
    """Whether the report needs a TopView query besides its own.

    Not at advertiser level (its rows hold TopView already), and not when the report filters
    on `buying_type` itself: then it gets exactly what its filter asks for.
    """
    below_advertiser = definition.level.status_filter is not None
    own_filter = any(f.field_name == BUYING_TYPE_FILTER for f in definition.filters)
    return below_advertiser and not own_filter


class TopViewCampaignLookup(TikTokStream):
    """`campaign/get/` asked whether an advertiser has any TopView campaign (one row at most)."""

    name = "topview_campaign_lookup"
    path = "campaign/get/"
    primary_keys = ("campaign_id",)
    schema = schema_of({"campaign_id": th.StringType()})

    def page_size_for(self, context: Context | None) -> int:
        """One row tells whether there is any."""
        return 1

    def request_params(self, context: Context | None) -> dict[str, t.Any]:
        """TopView campaigns of the advertiser, deleted ones included, only their ids."""
        return {
            "advertiser_id": (context or {})["advertiser_id"],
            "fields": ["campaign_id"],
            "filtering": {"buying_types": [TOPVIEW], "primary_status": "STATUS_ALL"},
        }

    def fetch_page(self, context: Context, number: int) -> Page:
        """The first page only: the page count (one per campaign) does not matter here."""
        return dataclasses.replace(super().fetch_page(context, number), total_pages=1)


class TopViewLookup:
    """Which advertisers of the run have TopView campaigns.

    Every advertiser's lookup is sent when the run starts, through the run's page fetcher (so
    in parallel, rate-limited and retried like every request); a report waits only for the
    answer of the advertiser it is planning, so its first requests go out meanwhile.
    """

    def __init__(self, tap: TapTikTok, advertiser_ids: t.Iterable[str]) -> None:
        lookup = TopViewCampaignLookup(tap)
        fetcher = tap.page_fetcher
        self._answers = {
            advertiser_id: fetcher.submit(lookup.fetch_page, {"advertiser_id": advertiser_id}, 1)
            for advertiser_id in advertiser_ids
        }
        self._known: dict[str, bool] = {}
        self._logger = tap.logger

    def has_topview(self, advertiser_id: str) -> bool:
        """Whether the advertiser has a TopView campaign (its lookup's error, if it failed)."""
        if advertiser_id not in self._known:
            answer = self._answers.pop(advertiser_id, None)
            found = answer is not None and bool(answer.result().read())
            self._known[advertiser_id] = found
            if found:
                self._logger.info(
                    "Advertiser %s has TopView campaigns: its campaign, ad group and ad reports "
                    "also read TopView rows",
                    advertiser_id,
                )
        return self._known[advertiser_id]
