"""creative_images, creative_videos and custom_audiences: real tap runs against the fake API."""

from __future__ import annotations

import decimal
import math
from typing import Any

from tap_tiktok_reporting.tap import TapTikTok
from tests.conftest import records_by_id, run_sync, tap_config
from tests.fake_api import FakeMarketingAPI
from tests.fake_api.audiences import audience_book
from tests.fake_api.creatives import creative_library

IMAGE_SEARCH = "file/image/ad/search/"
VIDEO_SEARCH = "file/video/ad/search/"
AUDIENCE_LIST = "dmp/custom_audience/list/"
AUDIENCE_GET = "dmp/custom_audience/get/"
# Written here from TikTok's limits, not read from the tap.
TIKTOK_MAX_SEARCH_PAGE = 100
TIKTOK_SEARCH_CAP = 10_000
TIKTOK_MAX_AUDIENCE_IDS = 100
LIBRARY_TIMES = ("create_time", "modify_time")
SPACED_TIMES = ("preview_url_expire_time", "create_time", "expired_time", "opt_time")


def iso_from_library(value: str) -> str:
    """ "2020-06-10T07:39:14Z" as the tap's ISO 8601 UTC."""
    assert value.endswith("Z")
    return value[:-1] + "+00:00"


def iso_from_spaced(value: str) -> str:
    """ "2020-06-10 07:39:14" (UTC) as the tap's ISO 8601 UTC."""
    return value.replace(" ", "T") + "+00:00"


def typed(value: Any) -> Any:
    return decimal.Decimal(str(value)) if isinstance(value, float) else value


def expected_asset(row: dict[str, Any], advertiser_id: str) -> dict[str, Any]:
    record = {name: typed(value) for name, value in row.items()}
    for name in LIBRARY_TIMES:
        record[name] = iso_from_library(row[name])
    if "preview_url_expire_time" in row:
        record["preview_url_expire_time"] = iso_from_spaced(row["preview_url_expire_time"])
    record["advertiser_id"] = advertiser_id
    return record


def assert_record_is(record: dict[str, Any], expected: dict[str, Any], label: str) -> None:
    """Every field of the fake's row is in the record, with the expected value and type."""
    for name, value in expected.items():
        assert name in record, (label, name)
        assert record[name] == value, (label, name, record[name], value)
        assert type(record[name]) is type(value), (label, name)


def requests_to(api: FakeMarketingAPI, path: str) -> list[dict[str, Any]]:
    return [entry.params for entry in api.requests if entry.path == path]


def advertiser_ids(api: FakeMarketingAPI) -> list[str]:
    return [a["advertiser_id"] for a in api.data.advertisers]


# ----- creative library -----


def test_creative_streams_hold_every_asset_of_every_advertiser_typed(api):
    library = creative_library(api.data)
    out = run_sync(tap_config(api), ["creative_images", "creative_videos"])

    for stream, key, truth in (
        ("creative_images", "image_id", library.images),
        ("creative_videos", "video_id", library.videos),
    ):
        records = out.records[stream]
        assert len({(r["advertiser_id"], r[key]) for r in records}) == len(records)
        for advertiser_id in advertiser_ids(api):
            got = records_by_id([r for r in records if r["advertiser_id"] == advertiser_id], key)
            want = {row[key]: expected_asset(row, advertiser_id) for row in truth(advertiser_id)}
            assert set(got) == set(want), (stream, advertiser_id)
            for asset_id, expected in want.items():
                assert_record_is(got[asset_id], expected, f"{stream} {asset_id}")
        # The schema declares every field the records carry, and the tap dropped none.
        declared = set(out.schemas[stream]["schema"]["properties"])
        assert {name for r in records for name in r} <= declared
    assert "not found in catalog schema" not in out.log

    # The first advertiser's 100+ images take two pages of TikTok's largest size.
    first = advertiser_ids(api)[0]
    assert len(library.images(first)) > TIKTOK_MAX_SEARCH_PAGE
    for path, truth in ((IMAGE_SEARCH, library.images), (VIDEO_SEARCH, library.videos)):
        sent = requests_to(api, path)
        assert all(int(p["page_size"]) == TIKTOK_MAX_SEARCH_PAGE for p in sent)
        assert len(sent) == sum(
            math.ceil(len(truth(a)) / TIKTOK_MAX_SEARCH_PAGE) for a in advertiser_ids(api)
        )


def test_ads_video_ids_and_image_ids_join_the_creative_library(api):
    out = run_sync(tap_config(api), ["ads", "creative_images", "creative_videos"])
    images = {(r["advertiser_id"], r["image_id"]) for r in out.records["creative_images"]}
    videos = {(r["advertiser_id"], r["video_id"]) for r in out.records["creative_videos"]}
    ads = out.records["ads"]
    with_video = [ad for ad in ads if ad.get("video_id")]
    with_images = [ad for ad in ads if ad.get("image_ids")]
    assert with_video and with_images
    for ad in with_video:
        assert (ad["advertiser_id"], ad["video_id"]) in videos, ad["ad_id"]
    for ad in with_images:
        for image_id in ad["image_ids"]:
            assert (ad["advertiser_id"], image_id) in images, ad["ad_id"]


def test_a_library_past_tiktoks_cap_is_read_to_the_cap_and_reported(api):
    first = advertiser_ids(api)[0]
    library = creative_library(api.data)
    library.add_images(first, TIKTOK_SEARCH_CAP)
    total = len(library.images(first))
    assert total > TIKTOK_SEARCH_CAP

    out = run_sync(tap_config(api, advertiser_ids=[first]), ["creative_images"])

    got = records_by_id(out.records["creative_images"], "image_id")
    # TikTok returns the 10,000 most recently modified; the tap keeps every one of them.
    assert set(got) == {row["image_id"] for row in library.images(first)[:TIKTOK_SEARCH_CAP]}
    warnings = [
        line for line in out.log.splitlines() if line.startswith("WARNING") and first in line
    ]
    assert any(
        str(total) in line and str(total - TIKTOK_SEARCH_CAP) in line and "10000" in line
        for line in warnings
    ), warnings
    assert len(requests_to(api, IMAGE_SEARCH)) == TIKTOK_SEARCH_CAP // TIKTOK_MAX_SEARCH_PAGE


def test_a_library_below_the_cap_gives_no_warning(api):
    out = run_sync(tap_config(api), ["creative_images", "creative_videos"])
    assert "per query" not in out.log


def test_creatives_are_unselected_by_default_and_audiences_selected(api):
    config = tap_config(api)
    catalog = TapTikTok(config=config, validate_config=False).catalog_dict
    roots = {
        s["tap_stream_id"]: next(m["metadata"] for m in s["metadata"] if m["breadcrumb"] == [])
        for s in catalog["streams"]
    }
    for name in ("creative_images", "creative_videos"):
        assert roots[name]["selected"] is False
        assert roots[name]["selected-by-default"] is False
    assert roots["custom_audiences"]["selected"] is True
    assert roots["custom_audiences"]["selected-by-default"] is True
    # Selecting the stream selects its every field (only the root is unselected).
    stream = next(s for s in catalog["streams"] if s["tap_stream_id"] == "creative_videos")
    assert all(
        m["metadata"].get("selected") is not False
        and m["metadata"].get("selected-by-default") is not False
        for m in stream["metadata"]
        if m["breadcrumb"]
    )
    # Without a catalog, a run syncs audiences and not the creative library.
    tap = TapTikTok(config=config, validate_config=False)
    assert tap.streams["custom_audiences"].selected
    assert not tap.streams["creative_images"].selected
    assert not tap.streams["creative_videos"].selected


# ----- custom audiences -----


def expected_audience(
    details: dict[str, Any], history: list[dict[str, Any]], advertiser_id: str
) -> dict[str, Any]:
    """The record for an audience as its get details and history say (written from the facts)."""
    record = {k: v for k, v in details.items() if v is not None}
    record["create_time"] = iso_from_spaced(details["create_time"])
    record["expired_time"] = iso_from_spaced(details["expired_time"])
    record["audience_history"] = [
        {**h, "opt_time": iso_from_spaced(h["opt_time"])} for h in history
    ]
    record["advertiser_id"] = advertiser_id
    # Shared in: another advertiser owns it (TikTok: shared and not is_creator).
    record["is_shared_in"] = details["owner_id"] != advertiser_id
    return record


def test_custom_audiences_are_listed_and_completed_with_their_details(api):
    book = audience_book(api.data)
    out = run_sync(tap_config(api), ["custom_audiences"])

    records = out.records["custom_audiences"]
    assert len({(r["advertiser_id"], r["audience_id"]) for r in records}) == len(records)
    for advertiser_id in advertiser_ids(api):
        got = records_by_id(
            [r for r in records if r["advertiser_id"] == advertiser_id], "audience_id"
        )
        audiences = book.visible_to(advertiser_id, listing=True)
        assert set(got) == {a.audience_id for a in audiences}
        for audience in audiences:
            expected = expected_audience(
                audience.details_for(advertiser_id), audience.history, advertiser_id
            )
            assert_record_is(got[audience.audience_id], expected, audience.audience_id)
    # Shared audiences, both ways, and lookalikes with their spec.
    assert any(r["is_shared_in"] and r["shared"] and not r["is_creator"] for r in records)
    assert any(not r["is_shared_in"] and r["shared"] and r["is_creator"] for r in records)
    lookalikes = [r for r in records if r.get("lookalike_spec")]
    assert lookalikes
    assert all(isinstance(r["lookalike_spec"]["source_audience_id"], str) for r in lookalikes)
    assert "no details" not in out.log
    declared = set(out.schemas["custom_audiences"]["schema"]["properties"])
    assert {name for r in records for name in r} <= declared
    assert "not found in catalog schema" not in out.log  # no field of TikTok's is dropped


def test_audience_details_are_asked_for_100_at_a_time(api):
    book = audience_book(api.data)
    out = run_sync(tap_config(api), ["custom_audiences"])
    assert out.records["custom_audiences"]

    listed = {a: len(book.visible_to(a, listing=True)) for a in advertiser_ids(api)}
    assert max(listed.values()) > TIKTOK_MAX_AUDIENCE_IDS  # one advertiser needs two batches
    gets = requests_to(api, AUDIENCE_GET)
    assert len(gets) == sum(math.ceil(n / TIKTOK_MAX_AUDIENCE_IDS) for n in listed.values())
    asked: dict[str, list[str]] = {}
    for params in gets:
        ids = params["custom_audience_ids"]
        assert 1 <= len(ids) <= TIKTOK_MAX_AUDIENCE_IDS
        asked.setdefault(params["advertiser_id"], []).extend(ids)
    for advertiser_id in advertiser_ids(api):
        assert sorted(asked[advertiser_id]) == sorted(
            a.audience_id for a in book.visible_to(advertiser_id, listing=True)
        )
    lists = requests_to(api, AUDIENCE_LIST)
    assert all(int(p["page_size"]) == TIKTOK_MAX_AUDIENCE_IDS for p in lists)


def test_an_audience_deleted_between_list_and_get_is_kept_with_the_lists_fields(api):
    book = audience_book(api.data)
    book.list_lags_deletes = True
    out = run_sync(tap_config(api), ["custom_audiences"])

    deleted = [
        (advertiser_id, a)
        for advertiser_id in advertiser_ids(api)
        for a in book.visible_to(advertiser_id, listing=True)
        if a.deleted
    ]
    assert deleted
    records = {(r["advertiser_id"], r["audience_id"]): r for r in out.records["custom_audiences"]}
    for advertiser_id, audience in deleted:
        record = records[(advertiser_id, audience.audience_id)]
        assert record["name"] == audience.details["name"]
        assert record["create_time"] == iso_from_spaced(audience.details["create_time"])
        assert record.get("cover_num") is None  # only the get has it
        assert record["is_shared_in"] is (audience.owner_id != advertiser_id)
        assert f"advertiser {advertiser_id}" in out.log
    assert "no details" in out.log
