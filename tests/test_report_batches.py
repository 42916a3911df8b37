"""Up to 5 advertisers in one report request: fewer requests, the same rows, bookmarks apart."""

from __future__ import annotations

import json

import pytest

from tests.conftest import catalog_selecting, run_cli, run_sync, tap_config
from tests.fake_api import DatasetSpec, FakeMarketingAPI, Fault

REPORT_PATH = "report/integrated/get/"
STREAMS = ["campaign_report_daily", "ad_report_daily", "campaign_report_hourly"]
# 7 advertisers in several time zones, each with a small tree; no TopView objects, so request
# counts here are those of batching alone (TopView queries: tests/test_topview_reports.py).
SPEC = DatasetSpec(
    seed=5,
    advertisers=7,
    campaigns_per_advertiser=2,
    adgroups_per_campaign=1,
    ads_per_adgroup=2,
    topview_fraction=0.0,
)
# 31 dates: a 30-date window and a 1-date one; the hourly report reads a day a request.
RANGE = {"start_date": "2025-01-01", "end_date": "2025-01-31", "lookback_days": 0}
HOURLY_RANGE = {"start_date": "2025-01-30", "end_date": "2025-01-31"}


@pytest.fixture
def api():
    with FakeMarketingAPI(SPEC, qps_limit=None) as fake:
        yield fake


def report_requests(api):
    return [r for r in api.requests if r.path == REPORT_PATH and r.code == 0]


def keyed(records):
    return sorted(records, key=lambda r: sorted((k, str(v)) for k, v in r.items()))


def sync(api, streams, state=None, expect_error=None, **settings):
    config = tap_config(api, **{**RANGE, **settings})
    return run_sync(config, streams=streams, state=state, expect_error=expect_error)


def test_advertisers_with_the_same_dates_share_requests_and_give_the_same_rows(api):
    one_each = sync(
        api, ["campaign_report_daily", "ad_report_daily"], advertisers_per_report_request=1
    )
    singles = report_requests(api)
    assert all("advertiser_ids" not in r.params for r in singles)
    api.clear_log()
    batched = sync(api, ["campaign_report_daily", "ad_report_daily"])
    batches = report_requests(api)

    # 7 advertisers: a batch of 5 and one of 2, per window and report: 2 x 2 x 2 requests.
    assert len(singles) == 7 * 2 * 2
    assert len(batches) == 2 * 2 * 2
    assert sorted(len(r.params["advertiser_ids"]) for r in batches) == [2] * 4 + [5] * 4
    for stream in ("campaign_report_daily", "ad_report_daily"):
        assert batched.records[stream], stream
        assert keyed(batched.records[stream]) == keyed(one_each.records[stream])
    # ...and the rows are the fake's own: every campaign-day of every advertiser, once.
    truth = set()
    for advertiser in api.data.advertisers:
        for start, end in (("2025-01-01", "2025-01-30"), ("2025-01-31", "2025-01-31")):
            rows = api.complete_report_rows(
                advertiser["advertiser_id"],
                report_type="BASIC",
                data_level="AUCTION_CAMPAIGN",
                dimensions=["campaign_id", "stat_time_day"],
                metrics=["spend"],
                start_date=start,
                end_date=end,
                filtering=[
                    {
                        "field_name": "campaign_status",
                        "filter_type": "IN",
                        "filter_value": '["STATUS_ALL"]',
                    }
                ],
            )
            truth |= {
                (
                    advertiser["advertiser_id"],
                    r["dimensions"]["campaign_id"],
                    r["dimensions"]["stat_time_day"][:10],
                )
                for r in rows
            }
    got = [
        (r["advertiser_id"], r["campaign_id"], r["stat_time_day"])
        for r in batched.records["campaign_report_daily"]
    ]
    assert len(got) == len(set(got)) and set(got) == truth
    # Each advertiser keeps its own bookmark, the same as when asked for alone.
    assert batched.final_state["bookmarks"] == one_each.final_state["bookmarks"]
    partitions = batched.final_state["bookmarks"]["ad_report_daily"]["partitions"]
    assert len(partitions) == 7
    assert {p["replication_key_value"] for p in partitions} == {"2025-01-31"}


def test_hourly_rows_of_a_batch_keep_each_advertisers_time_zone(api):
    zones = {a["timezone"] for a in api.data.advertisers}
    assert len(zones) > 1
    alone = sync(api, ["campaign_report_hourly"], advertisers_per_report_request=1, **HOURLY_RANGE)
    together = sync(api, ["campaign_report_hourly"], **HOURLY_RANGE)
    assert together.records["campaign_report_hourly"]
    assert keyed(together.records["campaign_report_hourly"]) == keyed(
        alone.records["campaign_report_hourly"]
    )
    offsets = {r["stat_time_hour"][-6:] for r in together.records["campaign_report_hourly"]}
    assert len(offsets) > 1  # stamps carry each advertiser's own offset


def test_only_advertisers_with_the_same_due_dates_are_batched(api):
    ids = [a["advertiser_id"] for a in api.data.advertisers]
    # Advertiser 3 has read up to Jan 30: it re-reads from there (no lookback), alone.
    state = {
        "bookmarks": {
            "campaign_report_daily": {
                "partitions": [
                    {
                        "context": {"advertiser_id": ids[2]},
                        "replication_key": "stat_time_day",
                        "replication_key_value": "2025-01-30",
                    }
                ]
            }
        }
    }
    out = sync(api, ["campaign_report_daily"], state=state)
    asked = [
        (
            tuple(r.params.get("advertiser_ids") or [r.params["advertiser_id"]]),
            r.params["start_date"],
        )
        for r in report_requests(api)
    ]
    assert (tuple(ids[:2] + ids[3:6]), "2025-01-01") in asked
    assert (tuple(ids[:2] + ids[3:6]), "2025-01-31") in asked
    # Advertisers 3 and 7 are due from different dates: each asked alone, for its own dates.
    assert ((ids[2],), "2025-01-30") in asked
    assert ((ids[6],), "2025-01-01") in asked
    assert len(asked) == 5
    assert {r["advertiser_id"] for r in out.records["campaign_report_daily"]} == set(ids)


def test_a_refused_batch_is_asked_for_one_advertiser_at_a_time(api):
    ids = [a["advertiser_id"] for a in api.data.advertisers]
    api.inject(
        Fault(kind="code", code=40001, path=REPORT_PATH, when={"advertiser_ids": ids[:5]}, times=9)
    )
    alone = sync(api, ["campaign_report_daily"], advertisers_per_report_request=1)
    api.clear_log()
    out = sync(api, ["campaign_report_daily"])

    assert keyed(out.records["campaign_report_daily"]) == keyed(
        alone.records["campaign_report_daily"]
    )
    # Each window of the refused batch went out once together, then once per advertiser.
    refused = [r for r in api.requests if r.code == 40001]
    assert len(refused) == 2
    singles = [
        r.params["advertiser_id"] for r in report_requests(api) if "advertiser_id" in r.params
    ]
    assert sorted(singles) == sorted(ids[:5] * 2)
    assert f"advertisers {', '.join(ids[:5])} together (code 40001" in out.log


def test_the_advertiser_that_fails_alone_is_named(api, tmp_path):
    ids = [a["advertiser_id"] for a in api.data.advertisers]
    api.inject(
        Fault(kind="code", code=40001, path=REPORT_PATH, when={"advertiser_ids": ids[:5]}, times=9)
    )
    api.inject(
        Fault(kind="code", code=40001, path=REPORT_PATH, when={"advertiser_id": ids[3]}, times=9)
    )
    config = tap_config(api, **RANGE)
    result = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["campaign_report_daily"]))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if "TikTok API error" in ln]
    assert f"(advertiser {ids[3]})" in line and "code 40001" in line
    got = {
        json.loads(ln)["record"]["advertiser_id"]
        for ln in result.stdout.splitlines()
        if json.loads(ln)["type"] == "RECORD"
    }
    # The batch's advertisers before it were read alone; none after it.
    assert got == set(ids[:3])


def test_a_batch_too_large_together_is_asked_for_alone_before_windows_are_cut(api):
    api.report_max_days_before_too_large = 30  # what one advertiser's 30 dates may reach
    alone = sync(api, ["campaign_report_daily"], advertisers_per_report_request=1)
    api.clear_log()
    out = sync(api, ["campaign_report_daily"])

    assert keyed(out.records["campaign_report_daily"]) == keyed(
        alone.records["campaign_report_daily"]
    )
    too_large = [r for r in api.requests if r.code == 40067]
    assert too_large and all(len(r.params["advertiser_ids"]) > 1 for r in too_large)
    # No window was cut: every request still covers the whole 30-date (or 1-date) window.
    windows = {(r.params["start_date"], r.params["end_date"]) for r in report_requests(api)}
    assert windows == {("2025-01-01", "2025-01-30"), ("2025-01-31", "2025-01-31")}
    assert "too large for advertisers" in out.log
