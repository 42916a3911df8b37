"""Tests of the fake API's Business Center endpoints (tests/fake_api/business_centers.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.fake_api import BusinessCenterSpec, DatasetSpec, FakeMarketingAPI

SPEC = DatasetSpec(
    seed=5,
    advertisers=2,
    campaigns_per_advertiser=1,
    adgroups_per_campaign=1,
    ads_per_adgroup=1,
    business_centers=(
        BusinessCenterSpec(own_advertisers=3, authorized_advertisers=1),
        BusinessCenterSpec(own_advertisers=52),
    ),
)


@pytest.fixture(scope="module")
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


def all_pages(api: FakeMarketingAPI, path: str, **params: Any) -> list[dict]:
    rows: list[dict] = []
    page = 1
    while True:
        body = call(api, path, page=page, **params)
        assert body["code"] == 0, body
        rows.extend(body["data"]["list"])
        if page >= body["data"]["page_info"]["total_page"]:
            return rows
        page += 1


def bc_ids(api: FakeMarketingAPI) -> list[str]:
    return [bc.bc_id for bc in api.data.business_centers]


def test_the_spec_makes_advertisers_only_business_centers_reach():
    with FakeMarketingAPI(SPEC, qps_limit=None) as fake:
        data = fake.data
        assert len(data.advertisers) == 2 + 3 + 52
        assert len(data.authorized_advertiser_ids) == 2
        first, second = data.business_centers
        assert len(first.advertiser_ids) == 4 and len(second.advertiser_ids) == 52
        # The first BC also holds the first authorized advertiser, as a partner.
        assert data.authorized_advertiser_ids[0] in first.advertiser_ids
        assert data.authorized_advertiser_ids[0] not in first.owned_advertiser_ids
        owned = {a["advertiser_id"]: a["owner_bc_id"] for a in data.advertisers}
        assert all(owned[a] == first.bc_id for a in first.owned_advertiser_ids)


def test_a_spec_without_business_centers_generates_the_same_data_as_before():
    plain = DatasetSpec(seed=5, advertisers=2)
    with FakeMarketingAPI(plain, qps_limit=None) as fake:
        before = fake.data.advertisers, fake.data.ads
    with FakeMarketingAPI(plain, qps_limit=None) as fake:
        assert (fake.data.advertisers, fake.data.ads) == before
        assert fake.data.business_centers == []
        assert fake.data.readable_advertiser_ids == set(fake.data.authorized_advertiser_ids)


def test_bc_get_lists_the_users_business_centers_with_page_info(api):
    body = call(api, "bc/get/")
    assert body["code"] == 0
    assert body["data"]["page_info"] == {
        "page": 1,
        "page_size": 10,
        "total_number": 2,
        "total_page": 1,
    }
    rows = body["data"]["list"]
    assert [row["bc_info"]["bc_id"] for row in rows] == bc_ids(api)
    assert {"bc_info", "user_role"} <= set(rows[0])
    # Null values are dropped from this endpoint's answer.
    assert all(value is not None for row in rows for value in row["bc_info"].values())
    one = call(api, "bc/get/", bc_id=bc_ids(api)[1])["data"]["list"]
    assert [row["bc_info"]["bc_id"] for row in one] == [bc_ids(api)[1]]


def test_bc_asset_get_pages_advertisers_by_at_most_50(api):
    big = bc_ids(api)[1]
    first = call(api, "bc/asset/get/", bc_id=big, asset_type="ADVERTISER", page_size=50)
    assert first["data"]["page_info"] == {
        "page": 1,
        "page_size": 50,
        "total_number": 52,
        "total_page": 2,
    }
    default = call(api, "bc/asset/get/", bc_id=big, asset_type="ADVERTISER")
    assert default["data"]["page_info"]["page_size"] == 10
    rows = all_pages(api, "bc/asset/get/", bc_id=big, asset_type="ADVERTISER", page_size=50)
    assert [r["asset_id"] for r in rows] == list(api.data.business_centers[1].advertiser_ids)
    assert {r["asset_type"] for r in rows} == {"ADVERTISER"}
    # Null values are kept in this endpoint's answer.
    assert rows[0]["catalog_role"] is None and "catalog_role" in rows[0]


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("bc/get/", {"page_size": 51}, "page_size"),
        ("bc/get/", {"page_size": 0}, "page_size"),
        ("bc/get/", {"page": 0}, "page"),
        ("bc/get/", {"scene": "EVERYTHING"}, "scene"),
        ("bc/get/", {"bc_id": "bc-1"}, "bc_id"),
        ("bc/asset/get/", {"asset_type": "ADVERTISER"}, "bc_id"),
        ("bc/asset/get/", {"bc_id": "FIRST"}, "asset_type"),
        ("bc/asset/get/", {"bc_id": "FIRST", "asset_type": "DOMAIN"}, "asset_type"),
        (
            "bc/asset/get/",
            {"bc_id": "FIRST", "asset_type": "ADVERTISER", "page_size": 51},
            "page_size",
        ),
        (
            "bc/asset/get/",
            {
                "bc_id": "FIRST",
                "asset_type": "ADVERTISER",
                "filtering": {"user_id": "1", "user_email": "a@example.com"},
            },
            "user_email",
        ),
    ],
)
def test_bad_parameters_answer_40002_naming_them(api, path, params, named):
    params = {k: bc_ids(api)[0] if v == "FIRST" else v for k, v in params.items()}
    body = call(api, path, **params)
    assert body["code"] == 40002, body
    assert named in body["message"]
    assert body["data"] == {}


@pytest.mark.parametrize("path", ["bc/get/", "bc/asset/get/"])
def test_a_business_center_the_user_is_not_in_answers_40001_naming_it(api, path):
    body = call(api, path, bc_id="7999999999999999999", asset_type="ADVERTISER")
    assert body["code"] == 40001
    assert "7999999999999999999" in body["message"]


def test_other_asset_types_list_nothing(api):
    body = call(api, "bc/asset/get/", bc_id=bc_ids(api)[0], asset_type="PIXEL")
    assert body["code"] == 0 and body["data"]["list"] == []


def test_bc_only_advertisers_are_readable_but_not_authorized(api):
    bc_only = sorted(api.data.business_centers[0].owned_advertiser_ids)[0]
    listed = call(api, "oauth2/advertiser/get/", app_id=api.app_id, secret=api.secret)
    assert bc_only not in {r["advertiser_id"] for r in listed["data"]["list"]}
    info = call(api, "advertiser/info/", advertiser_ids=[bc_only])
    assert info["code"] == 0
    assert info["data"]["list"][0]["advertiser_id"] == bc_only
    campaigns = call(api, "campaign/get/", advertiser_id=bc_only)
    assert campaigns["code"] == 0 and campaigns["data"]["list"]
    report = call(
        api,
        "report/integrated/get/",
        advertiser_id=bc_only,
        report_type="BASIC",
        data_level="AUCTION_CAMPAIGN",
        dimensions=["campaign_id", "stat_time_day"],
        metrics=["spend"],
        start_date="2025-01-01",
        end_date="2025-01-07",
    )
    assert report["code"] == 0, report
