"""Every built-in report's exact metric list, written out here, against requests and schemas."""

from __future__ import annotations

from tests.conftest import run_sync, tap_config

REPORT_PATH = "report/integrated/get/"

# The lists, written out (not imported from the tap): a metric the tap stops asking for, or
# starts asking for, turns the test red.
DELIVERY = (
    "spend",
    "billed_cost",
    "impressions",
    "gross_impressions",
    "clicks",
    "ctr",
    "cpc",
    "cpm",
)
UNIQUE_USER = ("reach", "frequency", "cost_per_1000_reached", "average_video_play_per_user")
CONVERSIONS = (
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
VIDEO = (
    "video_play_actions",
    "video_watched_2s",
    "video_watched_6s",
    "video_views_p25",
    "video_views_p50",
    "video_views_p75",
    "video_views_p100",
    "average_video_play",
    "engaged_view",
    "engaged_view_15s",
)
ENGAGEMENT = (
    "profile_visits",
    "profile_visits_rate",
    "likes",
    "comments",
    "shares",
    "follows",
    "clicks_on_music_disc",
)
APP = ("app_install", "real_time_app_install", "real_time_app_install_cost")
# TikTok refuses unique-user metrics with audience breakdowns (facts §4.4).
BASIC_METRICS = DELIVERY + UNIQUE_USER + CONVERSIONS + VIDEO + ENGAGEMENT + APP
AUDIENCE_METRICS = DELIVERY + CONVERSIONS + VIDEO + ENGAGEMENT + APP
ATTRIBUTES = {
    "advertiser": ("advertiser_name", "currency"),
    "campaign": ("advertiser_name", "currency", "campaign_name", "objective_type"),
    "ad_group": ("advertiser_name", "currency", "campaign_name", "campaign_id", "adgroup_name"),
    "ad": (
        "advertiser_name",
        "currency",
        "campaign_name",
        "campaign_id",
        "adgroup_name",
        "adgroup_id",
        "ad_name",
    ),
}
ADVERTISER_DAILY_ONLY = ("cash_spend", "voucher_spend")
LEVELS = {
    "advertiser": ("AUCTION_ADVERTISER", "advertiser_id"),
    "campaign": ("AUCTION_CAMPAIGN", "campaign_id"),
    "ad_group": ("AUCTION_ADGROUP", "adgroup_id"),
    "ad": ("AUCTION_AD", "ad_id"),
}
GRAINS = {"daily": ["stat_time_day"], "hourly": ["stat_time_hour"], "lifetime": []}
BREAKDOWNS = {
    "age_gender": ["age", "gender"],
    "country": ["country_code"],
    "platform": ["platform"],
}


def expected_reports() -> dict[str, tuple[tuple[str, str, tuple[str, ...]], tuple[str, ...]]]:
    """Stream name -> ((report_type, data_level, dimensions), metrics), for all 24 built-ins."""
    reports = {}
    for prefix, (data_level, id_dimension) in LEVELS.items():
        for grain, time_dimensions in GRAINS.items():
            extra = ADVERTISER_DAILY_ONLY if (prefix, grain) == ("advertiser", "daily") else ()
            query = ("BASIC", data_level, (id_dimension, *time_dimensions))
            reports[f"{prefix}_report_{grain}"] = (
                query,
                ATTRIBUTES[prefix] + BASIC_METRICS + extra,
            )
        for breakdown, dimensions in BREAKDOWNS.items():
            query = ("AUDIENCE", data_level, (id_dimension, "stat_time_day", *dimensions))
            reports[f"{prefix}_report_daily_by_{breakdown}"] = (
                query,
                ATTRIBUTES[prefix] + AUDIENCE_METRICS,
            )
    return reports


def test_builtin_reports_request_and_declare_exactly_their_metrics(api):
    expected = expected_reports()
    assert len(expected) == 24
    advertiser_id = api.data.advertisers[0]["advertiser_id"]
    config = tap_config(
        api, start_date="2025-05-01", end_date="2025-05-01", advertiser_ids=[advertiser_id]
    )
    out = run_sync(config, streams=list(expected))

    stream_of = {query: name for name, (query, _) in expected.items()}
    asked: dict[str, list[list[str]]] = {name: [] for name in expected}
    for request in (r for r in api.requests if r.path == REPORT_PATH):
        assert request.code == 0, request.params  # TikTok refused nothing
        params = request.params
        query = (params["report_type"], params["data_level"], tuple(params["dimensions"]))
        asked[stream_of[query]].append(params["metrics"])
    for name, ((_, _, dimensions), metrics) in expected.items():
        assert len(set(metrics)) == len(metrics), name
        assert asked[name], f"{name} was never requested"
        for requested in asked[name]:
            assert sorted(requested) == sorted(metrics), name
        properties = out.schemas[name]["schema"]["properties"]
        assert set(properties) == {"advertiser_id", *dimensions, *metrics}, name
        assert out.records[name], name
        assert all(set(r) == set(properties) for r in out.records[name]), name
