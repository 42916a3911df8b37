"""Heavy streams (hourly and audience reports, the creative library) are in the catalog but not
selected by default."""

from __future__ import annotations

import json

from tests.conftest import run_cli, run_sync, tap_config

# Written out here, not read from the tap: one request per advertiser per day, or many rows.
NOT_SELECTED_BY_DEFAULT = {
    "gmv_max_campaign_report_daily",  # a request per store, promotion type and 30 days
    "advertiser_report_hourly",
    "campaign_report_hourly",
    "ad_group_report_hourly",
    "ad_report_hourly",
    "advertiser_report_daily_by_age_gender",
    "advertiser_report_daily_by_country",
    "advertiser_report_daily_by_platform",
    "campaign_report_daily_by_age_gender",
    "campaign_report_daily_by_country",
    "campaign_report_daily_by_platform",
    "ad_group_report_daily_by_age_gender",
    "ad_group_report_daily_by_country",
    "ad_group_report_daily_by_platform",
    "ad_report_daily_by_age_gender",
    "ad_report_daily_by_country",
    "ad_report_daily_by_platform",
    # A big account's Asset Library costs up to 100 requests per advertiser per run.
    "creative_images",
    "creative_videos",
}
CUSTOM_REPORTS = [
    {
        "name": "my_hourly",
        "data_level": "CAMPAIGN",
        "aggregation": "HOUR",
        "metrics": ["spend"],
    },
    {
        "name": "my_audience",
        "report_type": "AUDIENCE",
        "data_level": "AD",
        "dimensions": ["gender"],
        "metrics": ["spend"],
    },
]


def test_discovery_leaves_only_heavy_builtin_reports_unselected(api, tmp_path):
    config = tap_config(api, reports=CUSTOM_REPORTS)
    result = run_cli(tmp_path, config, "--discover")

    assert result.returncode == 0, result.stderr
    assert api.count() == 0
    streams = json.loads(result.stdout)["streams"]
    root = {
        s["tap_stream_id"]: next(m["metadata"] for m in s["metadata"] if m["breadcrumb"] == [])
        for s in streams
    }
    assert set(root).issuperset(NOT_SELECTED_BY_DEFAULT)
    assert set(root).issuperset({"advertisers", "ads", "ad_report_daily", "my_hourly"})
    unselected = {name for name, meta in root.items() if meta["selected-by-default"] is False}
    assert unselected == NOT_SELECTED_BY_DEFAULT
    assert {name for name, meta in root.items() if meta.get("selected") is False} == unselected
    assert all(
        meta["selected-by-default"] is True and meta["selected"] is True
        for name, meta in root.items()
        if name not in unselected
    )


def test_selecting_a_heavy_stream_syncs_every_column(api):
    advertiser_id = api.data.advertisers[0]["advertiser_id"]
    config = tap_config(
        api, start_date="2025-05-01", end_date="2025-05-01", advertiser_ids=[advertiser_id]
    )
    out = run_sync(config, streams=["ad_report_hourly", "ad_report_daily_by_country"])
    for stream in ("ad_report_hourly", "ad_report_daily_by_country"):
        records = out.records[stream]
        assert records, stream
        assert set(records[0]) == set(out.schemas[stream]["schema"]["properties"]), stream
        assert any(r["spend"] is not None and r["impressions"] for r in records), stream
