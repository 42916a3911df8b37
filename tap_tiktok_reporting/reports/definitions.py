"""Reports as values: the definition type and the table of built-in reports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tap_tiktok_reporting.reports.catalog import (
    LEVELS,
    MAX_DAILY_WINDOW_DAYS,
    MAX_HOURLY_WINDOW_DAYS,
    TIME_DIMENSION_OF,
    UNIQUE_USER_METRICS,
    Aggregation,
    DataLevel,
    ReportType,
)


@dataclass(frozen=True)
class ReportFilter:
    """One entry of TikTok's `filtering` array; `values` are sent as a JSON-array string."""

    field_name: str
    filter_type: str
    values: tuple[str, ...]

    def to_api(self) -> dict[str, str]:
        """The filter as TikTok takes it."""
        return {
            "field_name": self.field_name,
            "filter_type": self.filter_type,
            "filter_value": json.dumps(list(self.values)),
        }


@dataclass(frozen=True)
class ReportDefinition:
    """What one report stream asks TikTok for."""

    name: str
    report_type: ReportType
    level: DataLevel
    aggregation: Aggregation
    breakdowns: tuple[str, ...]  # dimensions besides the level's id and the time dimension
    metrics: tuple[str, ...]
    filters: tuple[ReportFilter, ...] = ()
    lookback_days: int | None = None  # None: the `lookback_days` setting
    description: str = field(default="", compare=False)
    # Built-in reports outlive TikTok's metric changes: a metric TikTok refuses is dropped.
    builtin: bool = False
    # Heavy built-in reports (hourly, audience) are left for the user to select.
    selected_by_default: bool = True

    @property
    def time_dimension(self) -> str | None:
        """`stat_time_day`, `stat_time_hour`, or None for lifetime reports."""
        return TIME_DIMENSION_OF.get(self.aggregation)

    @property
    def is_lifetime(self) -> bool:
        """Whether the report is one lifetime snapshot (`query_lifetime`)."""
        return self.aggregation is Aggregation.LIFETIME

    @property
    def dimensions(self) -> tuple[str, ...]:
        """Every dimension sent to TikTok: the level's id, the time dimension, the breakdowns."""
        dims = [self.level.id_dimension]
        if self.time_dimension:
            dims.append(self.time_dimension)
        dims.extend(d for d in self.breakdowns if d not in dims)
        return tuple(dims)

    @property
    def primary_keys(self) -> tuple[str, ...]:
        """`advertiser_id` plus every dimension, so advertisers' rows never collide."""
        return ("advertiser_id", *(d for d in self.dimensions if d != "advertiser_id"))

    @property
    def max_window_days(self) -> int:
        """The widest date span TikTok accepts per request for this report."""
        if self.aggregation is Aggregation.HOUR:
            return MAX_HOURLY_WINDOW_DAYS
        return MAX_DAILY_WINDOW_DAYS


# Built-in reports ----------------------------------------------------------------------------

_DELIVERY = (
    "spend",
    "billed_cost",
    "impressions",
    "gross_impressions",
    "clicks",
    "ctr",
    "cpc",
    "cpm",
)
_UNIQUE = ("reach", "frequency", "cost_per_1000_reached")
_CONVERSIONS = (
    "conversion",
    "cost_per_conversion",
    "conversion_rate",
    "conversion_rate_v2",
    "real_time_conversion",
    "real_time_cost_per_conversion",
    "real_time_conversion_rate",
    "result",
    "cost_per_result",
    "result_rate",
    "real_time_result",
    "real_time_cost_per_result",
    "real_time_result_rate",
    "secondary_goal_result",
    "cost_per_secondary_goal_result",
    "secondary_goal_result_rate",
)
_VIDEO = (
    "video_play_actions",
    "video_watched_2s",
    "video_watched_6s",
    "video_views_p25",
    "video_views_p50",
    "video_views_p75",
    "video_views_p100",
    "average_video_play",
    "average_video_play_per_user",
    "engaged_view",
    "engaged_view_15s",
)
_ENGAGEMENT = (
    "profile_visits",
    "profile_visits_rate",
    "likes",
    "comments",
    "shares",
    "follows",
    "clicks_on_music_disc",
)
_APP = ("app_install", "real_time_app_install", "real_time_app_install_cost")

CORE_METRICS = _DELIVERY + _UNIQUE + _CONVERSIONS + _VIDEO + _ENGAGEMENT + _APP
AUDIENCE_CORE_METRICS = tuple(m for m in CORE_METRICS if m not in UNIQUE_USER_METRICS)

#: The attribute metrics each level's built-in reports carry: names of the object and parents.
LEVEL_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "ADVERTISER": ("advertiser_name", "currency"),
    "CAMPAIGN": ("advertiser_name", "currency", "campaign_name", "objective_type"),
    "ADGROUP": ("advertiser_name", "currency", "campaign_name", "campaign_id", "adgroup_name"),
    "AD": (
        "advertiser_name",
        "currency",
        "campaign_name",
        "campaign_id",
        "adgroup_name",
        "adgroup_id",
        "ad_name",
    ),
}
_LEVEL_STREAM_PREFIX = {
    "ADVERTISER": "advertiser",
    "CAMPAIGN": "campaign",
    "ADGROUP": "ad_group",
    "AD": "ad",
}
_GRAIN_SUFFIX = {
    Aggregation.DAY: "daily",
    Aggregation.HOUR: "hourly",
    Aggregation.LIFETIME: "lifetime",
}
AUDIENCE_BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "age_gender": ("age", "gender"),
    "country": ("country_code",),
    "platform": ("platform",),
}


def _basic_report(level: str, aggregation: Aggregation) -> ReportDefinition:
    extra = (
        ("cash_spend", "voucher_spend")
        if (level, aggregation) == ("ADVERTISER", Aggregation.DAY)
        else ()
    )
    name = f"{_LEVEL_STREAM_PREFIX[level]}_report_{_GRAIN_SUFFIX[aggregation]}"
    return ReportDefinition(
        name=name,
        report_type=ReportType.BASIC,
        level=LEVELS[level],
        aggregation=aggregation,
        breakdowns=(),
        metrics=LEVEL_ATTRIBUTES[level] + CORE_METRICS + extra,
        description=f"BASIC report, {level} level, {_GRAIN_SUFFIX[aggregation]}.",
        builtin=True,
        # One request per advertiser per day: too costly to sync unless asked for.
        selected_by_default=aggregation is not Aggregation.HOUR,
    )


def _audience_report(level: str, breakdown: str) -> ReportDefinition:
    return ReportDefinition(
        name=f"{_LEVEL_STREAM_PREFIX[level]}_report_daily_by_{breakdown}",
        report_type=ReportType.AUDIENCE,
        level=LEVELS[level],
        aggregation=Aggregation.DAY,
        breakdowns=AUDIENCE_BREAKDOWNS[breakdown],
        metrics=LEVEL_ATTRIBUTES[level] + AUDIENCE_CORE_METRICS,
        description=f"AUDIENCE report, {level} level, daily, by {breakdown.replace('_', ' and ')}.",
        builtin=True,
        selected_by_default=False,  # many rows per object and day
    )


BUILTIN_REPORTS: tuple[ReportDefinition, ...] = tuple(
    _basic_report(level, aggregation) for level in LEVELS for aggregation in Aggregation
) + tuple(
    _audience_report(level, breakdown) for level in LEVELS for breakdown in AUDIENCE_BREAKDOWNS
)
