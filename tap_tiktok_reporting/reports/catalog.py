"""TikTok's reporting rules, in one place: levels, dimensions, metrics and their types.

Validation, schemas and record conversion all read from these tables.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class ReportType(str, enum.Enum):
    """`report_type` values the tap supports."""

    BASIC = "BASIC"
    AUDIENCE = "AUDIENCE"


class Aggregation(str, enum.Enum):
    """How rows are grouped in time: per day, per hour, or over the object's lifetime."""

    DAY = "DAY"
    HOUR = "HOUR"
    LIFETIME = "LIFETIME"


@dataclass(frozen=True)
class DataLevel:
    """A report level: its API name, the id dimension it implies, and its status filter."""

    name: str
    api_name: str
    id_dimension: str
    status_filter: str | None


LEVELS: dict[str, DataLevel] = {
    "ADVERTISER": DataLevel("ADVERTISER", "AUCTION_ADVERTISER", "advertiser_id", None),
    "CAMPAIGN": DataLevel("CAMPAIGN", "AUCTION_CAMPAIGN", "campaign_id", "campaign_status"),
    "ADGROUP": DataLevel("ADGROUP", "AUCTION_ADGROUP", "adgroup_id", "adgroup_status"),
    "AD": DataLevel("AD", "AUCTION_AD", "ad_id", "ad_status"),
}

ID_DIMENSIONS = frozenset(level.id_dimension for level in LEVELS.values())
TIME_DIMENSION_OF = {Aggregation.DAY: "stat_time_day", Aggregation.HOUR: "stat_time_hour"}
TIME_DIMENSIONS = frozenset(TIME_DIMENSION_OF.values())

# Breakdowns besides ids and time. country_code is valid in both report types.
SHARED_DIMENSIONS = frozenset({"country_code", "ad_type"})
BASIC_DIMENSIONS = SHARED_DIMENSIONS | {
    "custom_event_type",
    "event_source_id",
    "page_id",
    "component_name",
    "room_id",
    "post_id",
    "image_id",
    "video_material_id",
    "minis_id",
    "search_terms",
    "search_keyword",
    "match_type",
    "skan_postback_sequence",
}
AUDIENCE_DIMENSIONS = SHARED_DIMENSIONS | {
    "gender",
    "age",
    "province_id",
    "dma_id",
    "platform",
    "ac",
    "language",
    "interest_category",
    "interest_category_tier2",
    "interest_category_tier3",
    "interest_category_tier4",
    "placement",
    "contextual_tag",
    "device_brand_id",
    "hashtag",
    "audience_tags",
    "additional_interests",
    "behavior_id",
    "purchase_intention",
}
BREAKDOWN_DIMENSIONS = {
    ReportType.BASIC: BASIC_DIMENSIONS,
    ReportType.AUDIENCE: AUDIENCE_DIMENSIONS,
}
# Dimensions a lifetime query refuses besides time: audience ones and country_code.
NOT_IN_LIFETIME = (AUDIENCE_DIMENSIONS - {"ad_type"}) | {"country_code"}


class MetricKind(str, enum.Enum):
    """How a metric's string value is typed in records."""

    COUNT = "integer"
    DECIMAL = "number"  # money, rates, averages: exact decimals
    TEXT = "string"


_COUNTS = (
    "impressions",
    "gross_impressions",
    "clicks",
    "reach",
    "conversion",
    "real_time_conversion",
    "result",
    "real_time_result",
    "secondary_goal_result",
    "video_play_actions",
    "video_watched_2s",
    "video_watched_6s",
    "video_views_p25",
    "video_views_p50",
    "video_views_p75",
    "video_views_p100",
    "profile_visits",
    "likes",
    "comments",
    "shares",
    "follows",
    "clicks_on_music_disc",
    "engaged_view",
    "engaged_view_15s",
    "app_install",
    "real_time_app_install",
    "complete_payment",
    "total_purchase",
    "registration",
    "total_registration",
    "page_browse_view",
    "button_click",
    "form",
    "online_consult",
    "user_registration",
    "add_to_wishlist",
    "checkout",
    "purchase",
)
_DECIMALS = (
    "spend",
    "billed_cost",
    "cash_spend",
    "voucher_spend",
    "cpc",
    "cpm",
    "ctr",
    "cost_per_1000_reached",
    "frequency",
    "cost_per_conversion",
    "conversion_rate",
    "conversion_rate_v2",
    "real_time_cost_per_conversion",
    "real_time_conversion_rate",
    "real_time_conversion_rate_v2",
    "cost_per_result",
    "result_rate",
    "real_time_cost_per_result",
    "real_time_result_rate",
    "cost_per_secondary_goal_result",
    "secondary_goal_result_rate",
    "average_video_play",
    "average_video_play_per_user",
    "profile_visits_rate",
    "real_time_app_install_cost",
    "complete_payment_roas",
    "cost_per_complete_payment",
    "value_per_complete_payment",
    "total_complete_payment_rate",
    "total_purchase_value",
    "cost_per_registration",
    "cost_per_total_registration",
)

#: Metrics valid at every level, typed.
METRIC_KINDS: dict[str, MetricKind] = {
    **dict.fromkeys(_COUNTS, MetricKind.COUNT),
    **dict.fromkeys(_DECIMALS, MetricKind.DECIMAL),
}

#: Attribute metrics (properties of the objects), by the levels that have them.
_ATTRIBUTES_ALL_LEVELS = ("advertiser_name", "currency")
_ATTRIBUTES_FROM_CAMPAIGN = (
    "campaign_name",
    "objective_type",
    "split_test",
    "campaign_budget",
    "campaign_dedicate_type",
    "app_promotion_type",
)
_ATTRIBUTES_FROM_ADGROUP = (
    "campaign_id",
    "adgroup_name",
    "placement_type",
    "promotion_type",
    "opt_status",
    "adgroup_download_url",
    "profile_image",
    "dpa_target_audience_type",
    "budget",
    "smart_target",
    "billing_event",
    "bid_strategy",
    "bid",
    "bid_secondary_goal",
    "aeo_type",
    "tt_app_id",
    "tt_app_name",
    "mobile_app_id",
)
_ATTRIBUTES_ADGROUP_ONLY = ("is_aco",)
_ATTRIBUTES_AD_ONLY = (
    "adgroup_id",
    "ad_name",
    "ad_text",
    "call_to_action",
    "ad_profile_image",
    "ad_url",
    "image_mode",
    "is_smart_creative",
)
ATTRIBUTES_BY_LEVEL: dict[str, frozenset[str]] = {
    "ADVERTISER": frozenset(_ATTRIBUTES_ALL_LEVELS),
    "CAMPAIGN": frozenset(_ATTRIBUTES_ALL_LEVELS + _ATTRIBUTES_FROM_CAMPAIGN),
    "ADGROUP": frozenset(
        _ATTRIBUTES_ALL_LEVELS
        + _ATTRIBUTES_FROM_CAMPAIGN
        + _ATTRIBUTES_FROM_ADGROUP
        + _ATTRIBUTES_ADGROUP_ONLY
    ),
    "AD": frozenset(
        _ATTRIBUTES_ALL_LEVELS
        + _ATTRIBUTES_FROM_CAMPAIGN
        + _ATTRIBUTES_FROM_ADGROUP
        + _ATTRIBUTES_AD_ONLY
    ),
}
ALL_ATTRIBUTES = frozenset().union(*ATTRIBUTES_BY_LEVEL.values())
#: Every metric name the catalog knows.
KNOWN_METRICS = frozenset(METRIC_KINDS) | ALL_ATTRIBUTES
_NUMERIC_ATTRIBUTES = frozenset({"campaign_budget", "budget", "bid", "bid_secondary_goal"})

#: Metrics limited to the advertiser level, daily BASIC reports.
ADVERTISER_DAILY_ONLY = frozenset({"cash_spend", "voucher_spend"})
#: Unique-user (UV) metrics: TikTok refuses them in AUDIENCE reports (code 40002).
UNIQUE_USER_METRICS = frozenset(
    {"reach", "frequency", "cost_per_1000_reached", "average_video_play_per_user"}
)

#: Longest date span per request, in dates inclusive, by time dimension.
MAX_DAILY_WINDOW_DAYS = 30
MAX_HOURLY_WINDOW_DAYS = 1


def metric_kind(metric: str) -> MetricKind | None:
    """The type of a known metric, or None for one the catalog does not know."""
    if metric in METRIC_KINDS:
        return METRIC_KINDS[metric]
    if metric in _NUMERIC_ATTRIBUTES:
        return MetricKind.DECIMAL
    if metric in ALL_ATTRIBUTES:
        return MetricKind.TEXT
    return None


def dimension_kind(dimension: str) -> str:
    """How a dimension is typed: "date", "hour" (a timestamp), or "string"."""
    if dimension == "stat_time_day":
        return "date"
    if dimension == "stat_time_hour":
        return "hour"
    return "string"


# TikTok's 40002 for refused metrics, e.g. "... Invalid metric fields: ['reach', 'frequency']."
_INVALID_METRIC_FIELDS = re.compile(r"invalid metric fields?\s*:\s*\[([^\]]*)\]", re.IGNORECASE)


def invalid_metric_fields(message: str | None) -> tuple[str, ...]:
    """The metric names a 40002 message says TikTok refuses (quoted either way); () if none."""
    found = _INVALID_METRIC_FIELDS.search(message or "")
    if found is None:
        return ()
    names = (part.strip().strip("'\"").strip() for part in found.group(1).split(","))
    return tuple(dict.fromkeys(name for name in names if name))
