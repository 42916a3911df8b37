"""Entity streams against the fake API: complete, exact, incremental per advertiser."""

from __future__ import annotations

import datetime
import decimal
import json
from typing import Any

import requests

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
LEVEL_OF = {"campaigns": "campaign", "ad_groups": "adgroup", "ads": "ad"}
NAME_OF = {"campaigns": "campaign_name", "ad_groups": "adgroup_name", "ads": "ad_name"}
# Later than every generated modify_time, so the object set to it holds the bookmark.
TIED_AT = datetime.datetime(2027, 1, 5, 9, 30, 0, tzinfo=UTC)
TIED_BOOKMARK = "2027-01-05T09:30:00+00:00"


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


def ads_modified_after(api, advertiser_id: str, modified_after: str) -> set[str]:
    """Ids of the advertiser's ads the fake returns for one `modified_after` filter."""
    response = requests.get(
        f"{api.base_url}/ad/get/",
        headers={"Access-Token": api.access_token},
        params={
            "advertiser_id": advertiser_id,
            "page_size": 1000,
            "filtering": json.dumps(
                {"primary_status": "STATUS_ALL", "modified_after": modified_after}
            ),
        },
        timeout=5,
    )
    body = response.json()
    assert body["code"] == 0, body
    assert body["data"]["page_info"]["total_page"] <= 1
    return {row["ad_id"] for row in body["data"]["list"]}


def test_objects_modified_in_the_bookmark_second_come_back_on_the_next_run(api):
    advertiser_id = api.data.advertisers[0]["advertiser_id"]
    config = tap_config(api, advertiser_ids=[advertiser_id])
    streams = list(LEVEL_OF)
    holder, tied = {}, {}
    for stream, level in LEVEL_OF.items():
        key = ID_OF[stream]
        # AUCTION objects only: the fake needs no second buying-type request to show them.
        rows = [
            r
            for r in fake_rows(api, stream)
            if r["advertiser_id"] == advertiser_id
            and r.get("modify_time")
            and api.data.buying_type(r[key]) == "AUCTION"
        ]
        holder[stream], tied[stream] = rows[0][key], rows[1][key]
        api.modify(level, holder[stream], at=TIED_AT)
    first = run_sync(config, streams=streams)
    for stream in streams:
        assert bookmarks(first.final_state, stream) == {advertiser_id: TIED_BOOKMARK}

    # Another object changes within the same second as the bookmark, after the first run read it.
    for stream, level in LEVEL_OF.items():
        api.modify(level, tied[stream], at=TIED_AT, **{NAME_OF[stream]: "Changed at the bookmark"})
    api.clear_log()
    second = run_sync(config, streams=streams, state=first.final_state)

    for stream, key in ID_OF.items():
        emitted = records_by_id(second.records[stream], key)
        timed = {object_id for object_id, r in emitted.items() if r["modify_time"] is not None}
        # Both objects of the bookmark's second, and nothing older.
        assert timed == {holder[stream], tied[stream]}, stream
        assert emitted[holder[stream]]["modify_time"] == TIED_BOOKMARK, stream
        assert emitted[tied[stream]][NAME_OF[stream]] == "Changed at the bookmark", stream
    # TikTok's modified_after may be exclusive, so the tap asks from one second before the bookmark.
    ad_requests = [r for r in api.requests if r.path == "ad/get/"]
    assert ad_requests
    for request in ad_requests:
        assert request.params["filtering"]["modified_after"] == "2027-01-05 09:29:59"


def test_the_fake_treats_modified_after_as_exclusive(api):
    # The slack above matters only if the fake leaves out objects modified at the given second.
    advertiser_id = api.data.advertisers[0]["advertiser_id"]
    ad = next(
        a
        for a in api.data.ads
        if a["advertiser_id"] == advertiser_id
        and a.get("modify_time")
        and api.data.buying_type(a["ad_id"]) == "AUCTION"
    )
    api.modify("ad", ad["ad_id"], at=TIED_AT)
    assert ad["ad_id"] not in ads_modified_after(api, advertiser_id, "2027-01-05 09:30:00")
    assert ad["ad_id"] in ads_modified_after(api, advertiser_id, "2027-01-05 09:29:59")
