"""Entity streams against the fake API: complete, exact, incremental per advertiser."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from tests.conftest import records_by_id, run_sync, tap_config
from tests.fake_api import DatasetSpec, FakeMarketingAPI

UTC = datetime.timezone.utc
ID_OF = {"campaigns": "campaign_id", "ad_groups": "adgroup_id", "ads": "ad_id"}
DELETED_STATUS = {
    "campaigns": "CAMPAIGN_STATUS_DELETE",
    "ad_groups": "ADGROUP_STATUS_DELETE",
    "ads": "AD_STATUS_DELETE",
}
TIME_FIELDS = ("create_time", "modify_time", "schedule_start_time", "schedule_end_time")


def expected_record(row: dict[str, Any]) -> dict[str, Any]:
    """The record the tap should emit for a raw TikTok row (written here, not imported)."""
    # Records are read with exact decimals, so the fake's floats are compared as decimals too.
    record = {k: decimal.Decimal(str(v)) if isinstance(v, float) else v for k, v in row.items()}
    for name in TIME_FIELDS:
        value = record.get(name)
        if isinstance(value, int):
            record[name] = datetime.datetime.fromtimestamp(value, UTC).strftime(
                "%Y-%m-%dT%H:%M:%S+00:00"
            )
        elif isinstance(value, str) and value:
            record[name] = value.replace(" ", "T") + "+00:00"
    return record


def fake_rows(api, stream: str) -> list[dict[str, Any]]:
    return {
        "advertisers": api.data.advertisers,
        "campaigns": api.data.campaigns,
        "ad_groups": api.data.ad_groups,
        "ads": api.data.ads,
    }[stream]


def assert_records_match(records: list[dict], rows: list[dict], key: str) -> None:
    got = records_by_id(records, key)
    want = {row[key]: expected_record(row) for row in rows}
    assert set(got) == set(want)
    for object_id, expected in want.items():
        record = got[object_id]
        for name, value in expected.items():
            assert record[name] == value, (object_id, name)


def test_first_run_extracts_every_object_including_deleted_and_topview(api):
    out = run_sync(tap_config(api))

    assert_records_match(out.records["advertisers"], api.data.advertisers, "advertiser_id")
    for stream, key in ID_OF.items():
        rows = fake_rows(api, stream)
        assert_records_match(out.records[stream], rows, key)
        assert any(r.get("secondary_status") == DELETED_STATUS[stream] for r in out.records[stream])
    # TopView objects need their own request; they must be there too.
    topview = [c for c in api.data.campaigns if c.get("rf_campaign_type") == "TOPVIEW"]
    assert topview
    assert {c["campaign_id"] for c in topview} <= {
        r["campaign_id"] for r in out.records["campaigns"]
    }
    # start_date (2025-01-01) does not filter entities: older objects are there.
    assert any(r["modify_time"] < "2025-01-01" for r in out.records["campaigns"])


def test_deleted_objects_are_left_out_when_asked(api):
    out = run_sync(tap_config(api, include_deleted=False))
    for stream, key in ID_OF.items():
        rows = [
            r for r in fake_rows(api, stream) if r.get("secondary_status") != DELETED_STATUS[stream]
        ]
        assert_records_match(out.records[stream], rows, key)


def test_large_ids_and_types_survive(api):
    out = run_sync(tap_config(api), streams=["campaigns", "advertisers"])
    ids = [r["campaign_id"] for r in out.records["campaigns"]]
    assert all(isinstance(i, str) for i in ids)
    assert any(len(i) == 19 for i in ids)
    advertiser = out.records["advertisers"][0]
    assert advertiser["create_time"].endswith("+00:00")
    assert isinstance(advertiser["balance"], (int, decimal.Decimal))


def test_smart_plus_ads_without_modify_time_are_kept_and_reported(api):
    without = [a for a in api.data.ads if "modify_time" not in a]
    assert without
    out = run_sync(tap_config(api), streams=["ads"])
    emitted = {r["ad_id"]: r for r in out.records["ads"]}
    for ad in without:
        assert emitted[ad["ad_id"]]["modify_time"] is None
    assert "have no modify_time" in out.log


def bookmarks(state: dict, stream: str) -> dict[str, str]:
    partitions = state["bookmarks"][stream]["partitions"]
    return {p["context"]["advertiser_id"]: p["replication_key_value"] for p in partitions}


def test_bookmark_per_advertiser_is_the_newest_modify_time(api):
    out = run_sync(tap_config(api), streams=["campaigns", "ads"])
    for stream in ("campaigns", "ads"):
        marks = bookmarks(out.final_state, stream)
        for advertiser in api.data.advertisers:
            advertiser_id = advertiser["advertiser_id"]
            times = [
                r["modify_time"]
                for r in fake_rows(api, stream)
                if r["advertiser_id"] == advertiser_id and r.get("modify_time")
            ]
            assert marks[advertiser_id] == max(times).replace(" ", "T") + "+00:00"


def test_second_run_emits_only_changes_and_ties_with_the_bookmark(api):
    config = tap_config(api)
    first = run_sync(config, streams=["campaigns", "ad_groups", "ads"])

    advertiser_id = api.data.advertisers[0]["advertiser_id"]
    campaign = next(c for c in api.data.campaigns if c["advertiser_id"] == advertiser_id)
    ad = next(
        a for a in api.data.ads if a["advertiser_id"] == advertiser_id and a.get("modify_time")
    )
    later = datetime.datetime(2026, 12, 1, 8, 0, 0, tzinfo=UTC)
    api.modify("campaign", campaign["campaign_id"], at=later, campaign_name="Renamed")
    api.delete("ad", ad["ad_id"], at=later)
    api.clear_log()

    second = run_sync(config, streams=["campaigns", "ad_groups", "ads"], state=first.final_state)

    for stream, key in ID_OF.items():
        marks = bookmarks(first.final_state, stream)
        for record in second.records[stream]:
            if record["modify_time"] is None:
                continue  # Smart+ ads without a time are always emitted
            mark = marks[record["advertiser_id"]]
            assert record["modify_time"] >= mark, (stream, record[key])
    changed = {r["campaign_id"]: r for r in second.records["campaigns"]}
    assert changed[campaign["campaign_id"]]["campaign_name"] == "Renamed"
    deleted_ad = {r["ad_id"]: r for r in second.records["ads"]}[ad["ad_id"]]
    assert deleted_ad["secondary_status"] == "AD_STATUS_DELETE"
    # Nothing older than the bookmark comes back: the second run is small.
    assert len(second.records["campaigns"]) < len(first.records["campaigns"]) / 2
    assert bookmarks(second.final_state, "campaigns")[advertiser_id] == "2026-12-01T08:00:00+00:00"
    # Ads are filtered server-side once a bookmark exists.
    ad_requests = [r for r in api.requests if r.path == "ad/get/"]
    assert ad_requests and all("modified_after" in r.params["filtering"] for r in ad_requests)


def test_many_pages_follow_total_page(api):
    out = run_sync(tap_config(api, page_size=2), streams=["ads"])
    assert_records_match(out.records["ads"], api.data.ads, "ad_id")
    pages = [int(r.params["page"]) for r in api.requests if r.path == "ad/get/"]
    assert max(pages) > 2


def test_advertiser_info_is_read_in_batches_of_100():
    spec = DatasetSpec(
        seed=2,
        advertisers=230,
        campaigns_per_advertiser=0,
        adgroups_per_campaign=0,
        ads_per_adgroup=0,
        no_modify_time_ads=0,
    )
    with FakeMarketingAPI(spec, qps_limit=None) as many:
        out = run_sync(tap_config(many), streams=["advertisers"])
        assert_records_match(out.records["advertisers"], many.data.advertisers, "advertiser_id")
        batches = [
            len(r.params["advertiser_ids"]) for r in many.requests if r.path == "advertiser/info/"
        ]
        assert sorted(batches) == [30, 100, 100]
