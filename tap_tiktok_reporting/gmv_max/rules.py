"""TikTok's GMV Max rules: endpoints, limits, promotion types, fields and metric types.

From tiktok-api.md section 16. Schemas and request building read this module only.
"""

from __future__ import annotations

import dataclasses
import typing as t

from singer_sdk import typing as th

from tap_tiktok_reporting.reports.catalog import MetricKind

STORE_LIST_PATH = "gmv_max/store/list/"
CAMPAIGN_PATH = "gmv_max/campaign/get/"
REPORT_PATH = "gmv_max/report/get/"

#: `/gmv_max/campaign/get/` pages by at most 100.
MAX_CAMPAIGN_PAGE_SIZE = 100
#: `stat_time_day` reports span at most 30 dates per request.
MAX_DAILY_WINDOW_DAYS = 30
#: Campaign statuses of the report's `campaign_statuses` filter. Both sources accept these four;
#: only the doc has `STATUS_ALL`, so the four together ask for every campaign, deleted included.
ALL_CAMPAIGN_STATUSES = (
    "STATUS_DELIVERY_OK",
    "STATUS_DISABLE",
    "STATUS_NOT_DELIVERY",
    "STATUS_DELETE",
)
#: `/gmv_max/campaign/get/`'s `primary_status` filter value for deleted campaigns (one value a
#: request; without it, TikTok lists the campaigns that are not deleted).
DELETED_CAMPAIGNS = "STATUS_DELETE"


@dataclasses.dataclass(frozen=True)
class PromotionType:
    """Product or LIVE GMV Max: its names in each endpoint and its campaign-level metrics."""

    #: `/gmv_max/campaign/get/`'s value, also the records' `gmv_max_promotion_type`.
    campaign_value: str
    #: `/gmv_max/report/get/`'s `gmv_max_promotion_types` value.
    report_value: str
    metrics: tuple[str, ...]


_CAMPAIGN_ATTRIBUTES = (
    "campaign_name",
    "operation_status",
    "schedule_type",
    "schedule_start_time",
    "schedule_end_time",
    "bid_type",
    "target_roi_budget",
    "max_delivery_budget",
    "roas_bid",
)
_SALES = ("cost", "net_cost", "orders", "cost_per_order", "gross_revenue", "roi")
_LIVE_ATTRIBUTES = ("tt_account_name", "tt_account_profile_image_url", "identity_id")
_LIVE = (
    "live_views",
    "cost_per_live_view",
    "10_second_live_views",
    "cost_per_10_second_live_view",
    "live_follows",
)

PRODUCT = PromotionType("PRODUCT_GMV_MAX", "PRODUCT", _CAMPAIGN_ATTRIBUTES + _SALES)
LIVE = PromotionType(
    "LIVE_GMV_MAX", "LIVE", _CAMPAIGN_ATTRIBUTES + _LIVE_ATTRIBUTES + _SALES + _LIVE
)
PROMOTION_TYPES = (PRODUCT, LIVE)

#: How each report metric is typed (everything else is text).
METRIC_KINDS: dict[str, MetricKind] = {
    **dict.fromkeys(
        (
            "cost",
            "net_cost",
            "cost_per_order",
            "gross_revenue",
            "roi",
            "roas_bid",
            "target_roi_budget",
            "max_delivery_budget",
            "cost_per_live_view",
            "cost_per_10_second_live_view",
        ),
        MetricKind.DECIMAL,
    ),
    **dict.fromkeys(
        ("orders", "live_views", "10_second_live_views", "live_follows"), MetricKind.COUNT
    ),
}
#: Report metrics that are UTC times ("YYYY-MM-DD HH:MM:SS", UTC+0).
TIME_METRICS = frozenset({"schedule_start_time", "schedule_end_time"})
#: Report metrics that are ids.
ID_METRICS = frozenset({"identity_id"})

_TEXT = th.StringType()
_FLAG = th.BooleanType()
_TIMESTAMP = th.DateTimeType()

STORE_FIELDS: dict[str, th.JSONTypeHelper] = {
    "advertiser_id": _TEXT,
    "store_id": _TEXT,
    "store_name": _TEXT,
    "store_code": _TEXT,
    "store_status": _TEXT,
    "store_role": _TEXT,
    "is_gmv_max_available": _FLAG,
    "store_authorized_bc_id": _TEXT,
    "is_owner_bc": _FLAG,
    "store_authorized_bc_info": th.ObjectType(
        th.Property("bc_id", _TEXT),
        th.Property("bc_name", _TEXT),
        th.Property("bc_profile_image", _TEXT),
        th.Property("user_role", _TEXT),
        additional_properties=True,
    ),
    "thumbnail_url": _TEXT,
    "targeting_region_codes": th.ArrayType(th.StringType()),
    "exclusive_authorized_advertiser_info": th.ObjectType(
        th.Property("advertiser_id", _TEXT),
        th.Property("advertiser_name", _TEXT),
        th.Property("advertiser_status", _TEXT),
        additional_properties=True,
    ),
    # Added by the tap: whether this advertiser may run and report GMV Max on the store.
    "is_reportable": _FLAG,
}

CAMPAIGN_FIELDS: dict[str, th.JSONTypeHelper] = {
    "advertiser_id": _TEXT,
    "campaign_id": _TEXT,
    # Added by the tap, from the query: TikTok's rows do not say their store or type.
    "store_id": _TEXT,
    "gmv_max_promotion_type": _TEXT,
    "campaign_name": _TEXT,
    "operation_status": _TEXT,
    "secondary_status": _TEXT,
    "objective_type": _TEXT,
    "roi_protection_compensation_status": _TEXT,
    "create_time": _TIMESTAMP,
    "modify_time": _TIMESTAMP,
}

_METRIC_TYPES: dict[MetricKind, th.JSONTypeHelper] = {
    MetricKind.COUNT: th.IntegerType(),
    MetricKind.DECIMAL: th.NumberType(),
    MetricKind.TEXT: th.StringType(),
}

REPORT_KEYS = ("advertiser_id", "store_id", "campaign_id", "stat_time_day")
REPORT_METRICS: tuple[str, ...] = tuple(
    dict.fromkeys(m for promotion in PROMOTION_TYPES for m in promotion.metrics)
)


def metric_type(metric: str) -> th.JSONTypeHelper:
    """A report metric's schema type."""
    if metric in TIME_METRICS:
        return _TIMESTAMP
    return _METRIC_TYPES[METRIC_KINDS.get(metric, MetricKind.TEXT)]


def report_schema() -> dict[str, t.Any]:
    """The daily campaign report's schema: keys, promotion type, then every metric."""
    properties = [th.Property(key, _TEXT, required=True) for key in REPORT_KEYS[:-1]]
    properties += [
        th.Property("stat_time_day", th.DateType(), required=True),
        th.Property("gmv_max_promotion_type", _TEXT),
    ]
    properties += [th.Property(m, metric_type(m)) for m in REPORT_METRICS]
    return th.PropertiesList(*properties).to_dict()
