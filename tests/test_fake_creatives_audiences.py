"""Tests of the fake API's Asset Library and custom audience endpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.fake_api import DatasetSpec, FakeMarketingAPI
from tests.fake_api.audiences import audience_book
from tests.fake_api.creatives import creative_library

SPEC = DatasetSpec(seed=3, advertisers=3, campaigns_per_advertiser=2, ads_per_adgroup=2)


@pytest.fixture
def api():
    with FakeMarketingAPI(SPEC, qps_limit=None) as fake:
        yield fake


def call(api: FakeMarketingAPI, path: str, **params: Any) -> dict:
    encoded = {
        k: json.dumps(v) if isinstance(v, (list, dict)) else str(v) for k, v in params.items()
    }
    response = requests.get(
        f"{api.base_url}/{path}",
        params=encoded,
        headers={"Access-Token": api.access_token},
        timeout=5,
    )
    assert response.status_code == 200
    return response.json()


def ok(api: FakeMarketingAPI, path: str, **params: Any) -> dict:
    body = call(api, path, **params)
    assert body["code"] == 0, body
    return body["data"]


def refused(api: FakeMarketingAPI, path: str, **params: Any) -> tuple[int, str]:
    body = call(api, path, **params)
    assert body["code"] != 0, body
    assert body["data"] == {}
    return body["code"], body["message"]


def first_advertiser(api: FakeMarketingAPI) -> str:
    return api.data.advertisers[0]["advertiser_id"]


# ----- Asset Library -----


@pytest.mark.parametrize("path", ["file/image/ad/search/", "file/video/ad/search/"])
def test_searches_page_by_1_to_100_with_20_by_default(api, path):
    advertiser = first_advertiser(api)
    assert ok(api, path, advertiser_id=advertiser)["page_info"]["page_size"] == 20
    assert ok(api, path, advertiser_id=advertiser, page_size=100)["page_info"]["page_size"] == 100
    for bad in (0, 101, 1000):
        code, message = refused(api, path, advertiser_id=advertiser, page_size=bad)
        assert code == 40002 and "page_size" in message
    assert refused(api, path, advertiser_id=advertiser, page=0)[0] == 40002
    code, message = refused(api, path)
    assert code == 40002 and "advertiser_id" in message
    assert refused(api, path, advertiser_id="123")[0] == 40001


def test_the_first_advertiser_has_more_than_a_page_of_images_and_ads_join_the_library(api):
    library = creative_library(api.data)
    assert len(library.images(first_advertiser(api))) > 100
    for ad in api.data.ads:
        images = {row["image_id"] for row in library.images(ad["advertiser_id"])}
        videos = {row["video_id"] for row in library.videos(ad["advertiser_id"])}
        assert set(ad.get("image_ids") or []) <= images
        if ad.get("video_id"):
            assert ad["video_id"] in videos


def test_image_search_pages_cover_the_library_newest_first(api):
    advertiser = first_advertiser(api)
    rows, page = [], 1
    while True:
        data = ok(api, "file/image/ad/search/", advertiser_id=advertiser, page=page, page_size=100)
        rows += data["list"]
        if page >= data["page_info"]["total_page"]:
            break
        page += 1
    assert rows == creative_library(api.data).images(advertiser)
    times = [row["modify_time"] for row in rows]
    assert times == sorted(times, reverse=True)
    assert all(t.endswith("Z") and "T" in t for t in times)


def test_searches_return_at_most_10000_assets_but_count_them_all(api):
    advertiser = first_advertiser(api)
    library = creative_library(api.data)
    library.add_images(advertiser, 10_000)
    total = len(library.images(advertiser))
    first = ok(api, "file/image/ad/search/", advertiser_id=advertiser, page_size=100)
    assert first["page_info"]["total_number"] == total > 10_000
    assert first["page_info"]["total_page"] == 100
    last = ok(api, "file/image/ad/search/", advertiser_id=advertiser, page=100, page_size=100)
    assert last["list"] == library.images(advertiser)[9_900:10_000]
    past = ok(api, "file/image/ad/search/", advertiser_id=advertiser, page=101, page_size=100)
    assert past["list"] == []


def test_search_filters_and_their_limits(api):
    advertiser = first_advertiser(api)
    images = creative_library(api.data).images(advertiser)
    videos = creative_library(api.data).videos(advertiser)
    wanted = [row["image_id"] for row in images[:3]]
    data = ok(
        api, "file/image/ad/search/", advertiser_id=advertiser, filtering={"image_ids": wanted}
    )
    assert [row["image_id"] for row in data["list"]] == wanted
    code, message = refused(
        api,
        "file/image/ad/search/",
        advertiser_id=advertiser,
        filtering={"image_ids": [f"id{i}" for i in range(101)]},
    )
    assert code == 40002 and "image_ids" in message
    # Video material_ids take at most 20, image material_ids 100.
    refused(
        api,
        "file/video/ad/search/",
        advertiser_id=advertiser,
        filtering={"material_ids": [str(i) for i in range(21)]},
    )
    ok(
        api,
        "file/image/ad/search/",
        advertiser_id=advertiser,
        filtering={"material_ids": [str(i) for i in range(100)]},
    )
    code, message = refused(
        api, "file/image/ad/search/", advertiser_id=advertiser, filtering={"modify_time": "x"}
    )
    assert "modify_time" in message  # no modify-time filter exists
    code, message = refused(
        api,
        "file/video/ad/search/",
        advertiser_id=advertiser,
        filtering={"video_material_sources": ["NOPE"]},
    )
    assert "video_material_sources" in message
    displayable = ok(
        api,
        "file/video/ad/search/",
        advertiser_id=advertiser,
        page_size=100,
        filtering={"displayable": True},
    )["list"]
    assert displayable == [row for row in videos if row["displayable"]]
    ratio = ok(
        api,
        "file/image/ad/search/",
        advertiser_id=advertiser,
        page_size=100,
        filtering={"ratio": [1.0]},
    )
    assert ratio["list"] and all(row["width"] == row["height"] for row in ratio["list"])


def test_video_rows_carry_the_documented_fields(api):
    row = ok(api, "file/video/ad/search/", advertiser_id=first_advertiser(api))["list"][0]
    assert set(row) == {
        "video_id", "video_cover_url", "format", "preview_url", "preview_url_expire_time",
        "duration", "height", "width", "bit_rate", "signature", "size", "material_id",
        "allowed_placements", "allow_download", "file_name", "create_time", "modify_time",
        "displayable", "fix_task_id", "flaw_types",
    }  # fmt: skip
    assert isinstance(row["duration"], float)
    assert len(row["preview_url_expire_time"]) == len("2020-06-10 07:39:14")


# ----- custom audiences -----


def test_audience_list_pages_by_1_to_100_with_10_by_default(api):
    advertiser = first_advertiser(api)
    data = ok(api, "dmp/custom_audience/list/", advertiser_id=advertiser)
    assert data["page_info"]["page_size"] == 10
    assert data["page_info"]["total_number"] > 100
    assert (
        refused(api, "dmp/custom_audience/list/", advertiser_id=advertiser, page_size=101)[0]
        == 40002
    )
    assert refused(api, "dmp/custom_audience/list/")[0] == 40002
    # The list lacks what only the get has.
    row = data["list"][0]
    assert "cover_num" not in row and "is_valid" not in row and "lookalike_spec" not in row
    assert {"audience_id", "name", "audience_type", "is_creator", "shared"} <= set(row)


def test_audience_get_takes_1_to_100_ids_and_names_the_type_type(api):
    advertiser = first_advertiser(api)
    listed = ok(api, "dmp/custom_audience/list/", advertiser_id=advertiser, page_size=100)["list"]
    ids = [row["audience_id"] for row in listed]
    data = ok(api, "dmp/custom_audience/get/", advertiser_id=advertiser, custom_audience_ids=ids)
    assert {e["audience_details"]["audience_id"] for e in data["list"]} == set(ids)
    details = data["list"][0]["audience_details"]
    assert "type" in details and "audience_type" not in details
    assert data["list"][0]["audience_history"]
    code, message = refused(
        api, "dmp/custom_audience/get/", advertiser_id=advertiser, custom_audience_ids=[*ids, "1"]
    )
    assert code == 40002 and "custom_audience_ids" in message
    assert refused(api, "dmp/custom_audience/get/", advertiser_id=advertiser)[0] == 40002
    assert (
        refused(api, "dmp/custom_audience/get/", advertiser_id=advertiser, custom_audience_ids=[])[
            0
        ]
        == 40002
    )
    refused(
        api,
        "dmp/custom_audience/get/",
        advertiser_id=advertiser,
        custom_audience_ids=ids[:1],
        history_size=101,
    )
    one = ok(
        api,
        "dmp/custom_audience/get/",
        advertiser_id=advertiser,
        custom_audience_ids=ids,
        history_size=1,
    )
    assert all(len(e["audience_history"]) <= 1 for e in one["list"])


def test_shared_audiences_look_different_to_owner_and_receiver(api):
    book = audience_book(api.data)
    owner = first_advertiser(api)
    receiver = api.data.advertisers[1]["advertiser_id"]
    shared = [a for a in book.visible_to(receiver, listing=False) if a.owner_id == owner]
    assert shared
    audience_id = shared[0].audience_id
    as_owner = ok(
        api, "dmp/custom_audience/get/", advertiser_id=owner, custom_audience_ids=[audience_id]
    )
    as_receiver = ok(
        api, "dmp/custom_audience/get/", advertiser_id=receiver, custom_audience_ids=[audience_id]
    )
    owner_view = as_owner["list"][0]["audience_details"]
    receiver_view = as_receiver["list"][0]["audience_details"]
    assert (owner_view["shared"], owner_view["is_creator"]) == (True, True)
    assert (receiver_view["shared"], receiver_view["is_creator"]) == (True, False)
    assert receiver_view["owner_id"] == owner


def test_deleted_audiences_are_gone_unless_the_list_lags(api):
    book = audience_book(api.data)
    advertiser = first_advertiser(api)
    deleted = [
        a.audience_id for a in book._audiences.values() if a.deleted and a.owner_id == advertiser
    ]
    assert deleted

    def listed_ids() -> set[str]:
        return {
            row["audience_id"]
            for page in (1, 2)
            for row in ok(
                api, "dmp/custom_audience/list/", advertiser_id=advertiser, page=page, page_size=100
            )["list"]
        }

    assert not set(deleted) & listed_ids()
    book.list_lags_deletes = True
    assert set(deleted) <= listed_ids()
    got = ok(api, "dmp/custom_audience/get/", advertiser_id=advertiser, custom_audience_ids=deleted)
    assert got["list"] == []
