"""`gmv_max_campaign_report_daily`: each GMV Max campaign's day, per store the advertiser may report on.

Bookmarks are per advertiser AND store (kept in the advertiser's partition state, under
`store_bookmarks`): a store TikTok authorizes for the advertiser later must be read from
`start_date`, not from the dates its advertiser's other stores have reached. The partition's
`replication_key_value` is the earliest of its stores' bookmarks.
"""

from __future__ import annotations

import datetime
import itertools
import typing as t

from singer_sdk.helpers._state import get_state_if_exists
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_tiktok_reporting.api.client import AdvertiserPartitionedStream
from tap_tiktok_reporting.api.rate_limit import RequestLimiter, StackedLimiter
from tap_tiktok_reporting.conversions import Converter, id_string, utc_timestamp
from tap_tiktok_reporting.gmv_max.rules import (
    ALL_CAMPAIGN_STATUSES,
    ID_METRICS,
    MAX_DAILY_WINDOW_DAYS,
    METRIC_KINDS,
    PROMOTION_TYPES,
    REPORT_KEYS,
    REPORT_PATH,
    TIME_METRICS,
    PromotionType,
    report_schema,
)
from tap_tiktok_reporting.reports.catalog import MetricKind
from tap_tiktok_reporting.reports.date_windows import date_windows, report_range
from tap_tiktok_reporting.reports.rows import to_count, to_date, to_decimal, to_text
from tap_tiktok_reporting.settings import DEFAULT_LOOKBACK_DAYS

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

    from tap_tiktok_reporting.tap import TapTikTok

STORE_BOOKMARKS = "store_bookmarks"
_PROMOTION_OF = {p.campaign_value: p for p in PROMOTION_TYPES}
_CONVERTERS: dict[MetricKind, Converter] = {
    MetricKind.COUNT: to_count,
    MetricKind.DECIMAL: to_decimal,
    MetricKind.TEXT: to_text,
}


def _utc_time(value: t.Any) -> str | None:
    text = to_text(value)
    return utc_timestamp(text) if text else None


def metric_converter(metric: str) -> Converter:
    """How one report metric's string becomes a record value."""
    if metric in TIME_METRICS:
        return _utc_time
    if metric in ID_METRICS:
        return lambda value: id_string(to_text(value))
    return _CONVERTERS[METRIC_KINDS.get(metric, MetricKind.TEXT)]


class GmvMaxCampaignReportStream(AdvertiserPartitionedStream):
    """`/gmv_max/report/get/` by `campaign_id` and `stat_time_day`: one store and type a query.

    Product and LIVE campaigns have their own metrics, so each window of each store is asked
    for twice; a store's bookmark moves once both are read. Heavy: unselected by default.
    """

    name = "gmv_max_campaign_report_daily"
    path = REPORT_PATH
    primary_keys = REPORT_KEYS
    replication_key = "stat_time_day"
    is_sorted = False
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE  # values are typed in `page_rows`
    # Heavy: unselected by default at the root (its columns stay selected).
    selected_by_default = False

    def __init__(self, tap: TapTikTok) -> None:
        super().__init__(tap, schema=report_schema())
        self._converters = {
            promotion.campaign_value: [(m, metric_converter(m)) for m in promotion.metrics]
            for promotion in PROMOTION_TYPES
        }

    @property
    def request_limiter(self) -> RequestLimiter:
        """The run's limiter, then the endpoint's own lower tier (`gmv_max_requests_per_second`)."""
        tap = self.tiktok_tap
        return StackedLimiter(tap.rate_limiter, tap.gmv_max_rate_limiter)

    @property
    def lookback_days(self) -> int:
        """The `lookback_days` setting."""
        return int(self.config.get("lookback_days", DEFAULT_LOOKBACK_DAYS))

    @property
    def window_days(self) -> int:
        """Dates per request: 30, or `report_window_days` if smaller."""
        configured = int(self.config.get("report_window_days", MAX_DAILY_WINDOW_DAYS))
        return max(1, min(configured, MAX_DAILY_WINDOW_DAYS))

    # Plan

    def store_bookmark(self, advertiser_id: str, store_id: str) -> datetime.date | None:
        """The last date fully read for the store, from the input state."""
        state = get_state_if_exists(self.tap_state, self.name, {"advertiser_id": advertiser_id})
        value = ((state or {}).get(STORE_BOOKMARKS) or {}).get(store_id)
        return datetime.date.fromisoformat(str(value)[:10]) if value else None

    def listings(self, partition: Context) -> t.Iterable[dict[str, t.Any]]:
        """Per reportable store, its due windows, each asked for Product then LIVE."""
        advertiser_id = str(partition["advertiser_id"])
        tap = self.tiktok_tap
        end_date = self.config.get("end_date")
        listings = []
        for store_id in tap.gmv_max_stores.reportable_store_ids(advertiser_id):
            due = report_range(
                start_date=datetime.date.fromisoformat(str(self.config["start_date"])[:10]),
                end_date=datetime.date.fromisoformat(str(end_date)[:10]) if end_date else None,
                bookmark=self.store_bookmark(advertiser_id, store_id),
                lookback_days=self.lookback_days,
                today=tap.advertiser_today(advertiser_id),
            )
            if due is None:
                continue
            for window in date_windows(due.start, due.end, self.window_days):
                for promotion in PROMOTION_TYPES:
                    listings.append(
                        {
                            **partition,
                            "store_id": store_id,
                            "promotion_type": promotion.campaign_value,
                            "start_date": window.start.isoformat(),
                            "end_date": window.end.isoformat(),
                            "closes_window": promotion is PROMOTION_TYPES[-1],
                        }
                    )
        return listings

    # Requests

    def request_params(self, context: Context | None) -> dict[str, t.Any]:
        """One store, one promotion type, one window; deleted campaigns too when wanted."""
        context = context or {}
        promotion: PromotionType = _PROMOTION_OF[context["promotion_type"]]
        filtering: dict[str, t.Any] = {"gmv_max_promotion_types": [promotion.report_value]}
        if self.config.get("include_deleted", True):
            filtering["campaign_statuses"] = list(ALL_CAMPAIGN_STATUSES)
        return {
            "advertiser_id": context["advertiser_id"],
            "store_ids": [context["store_id"]],
            "dimensions": ["campaign_id", "stat_time_day"],
            "metrics": list(promotion.metrics),
            "start_date": context["start_date"],
            "end_date": context["end_date"],
            "filtering": filtering,
        }

    def page_rows(self, response: requests.Response, context: Context) -> list[dict[str, t.Any]]:
        """Typed flat records: keys, promotion type, the type's metrics (others stay null)."""
        base = {
            "advertiser_id": str(context["advertiser_id"]),
            "store_id": str(context["store_id"]),
            "gmv_max_promotion_type": context["promotion_type"],
        }
        converters = self._converters[context["promotion_type"]]
        records = []
        for row in self.parse_response(response):
            dimensions = row.get("dimensions") or {}
            metrics = row.get("metrics") or {}
            record = {
                **base,
                "campaign_id": id_string(dimensions.get("campaign_id")),
                "stat_time_day": to_date(dimensions.get("stat_time_day")),
            }
            record.update((name, convert(metrics.get(name))) for name, convert in converters)
            records.append(record)
        return records

    # Records and state

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Each query's rows; after both types of a store's window, the store's bookmark moves."""
        context = dict(context or {})
        for listing, pages in self.fetched_listings(context):
            yield from self.unique_rows(itertools.chain.from_iterable(pages), set())
            if listing["closes_window"]:
                last_date = datetime.date.fromisoformat(listing["end_date"])
                self.checkpoint(str(listing["advertiser_id"]), str(listing["store_id"]), last_date)

    def checkpoint(self, advertiser_id: str, store_id: str, last_date: datetime.date) -> None:
        """Move the store's bookmark to `last_date` (never back) and emit state now."""
        state = self.get_context_state({"advertiser_id": advertiser_id})
        marks: dict[str, str] = dict(state.get(STORE_BOOKMARKS) or {})
        previous = marks.get(store_id)
        if previous and previous[:10] > last_date.isoformat():
            return  # a lookback re-read never moves the bookmark back
        marks[store_id] = last_date.isoformat()
        state[STORE_BOOKMARKS] = marks
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = min(marks.values())
        # Written now, not at the end: an interrupted run resumes after the last full window.
        self.state_manager.is_flushed = False
        self._write_state_message()

    def _increment_stream_state(
        self, latest_record: dict, *, context: Context | None = None
    ) -> None:
        """Rows do not move the bookmark: a store's window does, once all its rows are out."""
