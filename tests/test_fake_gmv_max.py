"""The fake's GMV Max endpoints keep TikTok's rules (tiktok-api.md section 16)."""

from __future__ import annotations

import concurrent.futures
import json
from datetime import datetime, timezone
from typing import Any

import requests

from tests.fake_api import FakeMarketingAPI
from tests.fake_api.gmv_max import CAMPAIGN_PATH, REPORT_PATH, STORE_LIST_PATH
from tests.fake_api.gmv_max_data import gmv_max_world

ALL_STATUSES = ["STATUS_ALL"]


def call(api: FakeMarketingAPI, path: str, **params: Any) -> dict[str, Any]:
    query = {k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in params.items()}
    response = requests.get(
        f"{api.base_url}/{path}",
        params=query,
        headers={"Access-Token": api.access_token},
        timeout=10,
    )
    assert response.status_code == 200
    return response.json()


def advertiser_ids(api) -> list[str]:
    return [a["advertiser_id"] for a in api.data.advertisers]


def own_store(api, index: int = 0) -> tuple[str, str]:
    advertiser_id = advertiser_ids(api)[index]
    body = call(api, STORE_LIST_PATH, advertiser_id=advertiser_id)
    store = next(
        s
        for s in body["data"]["store_list"]
        if s.get("exclusive_authorized_advertiser_info", {}).get("advertiser_id") == advertiser_id
    )
    return advertiser_id, store["store_id"]


def report(api, advertiser_id: str, store_id: str, **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "advertiser_id": advertiser_id,
        "store_ids": [store_id],
        "dimensions": ["campaign_id", "stat_time_day"],
        "metrics": ["cost", "orders", "roi", "cost_per_order"],
        "start_date": "2025-05-01",
        "end_date": "2025-05-30",
        "filtering": {"gmv_max_promotion_types": ["PRODUCT"]},
        "page_size": 1000,
    }
    params.update(overrides)
    return call(api, REPORT_PATH, **{k: v for k, v in params.items() if v is not None})


def test_store_list_has_own_foreign_and_unauthorized_stores_and_no_paging(api):
    first, second, third = advertiser_ids(api)[:3]
    stores = call(api, STORE_LIST_PATH, advertiser_id=first)["data"]
    assert set(stores) == {"store_list"}
    exclusive = [s.get("exclusive_authorized_advertiser_info") for s in stores["store_list"]]
    assert [bool(e and e["advertiser_id"] == first) for e in exclusive] == [True, True, False]
    assert exclusive[2] is not None  # another ad account holds the third store
    second_stores = call(api, STORE_LIST_PATH, advertiser_id=second)["data"]["store_list"]
    assert "exclusive_authorized_advertiser_info" not in second_stores[1]  # nulls are dropped
    assert second_stores[1]["is_gmv_max_available"] is False
    assert call(api, STORE_LIST_PATH, advertiser_id=third)["data"]["store_list"] == []
    assert call(api, STORE_LIST_PATH)["code"] == 40002
    assert call(api, STORE_LIST_PATH, advertiser_id="123")["code"] == 40001


def test_campaign_get_needs_promotion_types_and_hides_deleted_unless_asked(api):
    advertiser_id, store_id = own_store(api)
    assert call(api, CAMPAIGN_PATH, advertiser_id=advertiser_id)["code"] == 40002
    missing_types = call(api, CAMPAIGN_PATH, advertiser_id=advertiser_id, filtering={})
    assert missing_types["code"] == 40002 and "gmv_max_promotion_types" in missing_types["message"]
    product = {"gmv_max_promotion_types": ["PRODUCT_GMV_MAX"], "store_ids": [store_id]}
    listed = call(api, CAMPAIGN_PATH, advertiser_id=advertiser_id, filtering=product, page_size=100)
    rows = listed["data"]["list"]
    assert len(rows) == 3 and all(r["secondary_status"] != "CAMPAIGN_STATUS_DELETE" for r in rows)
    assert "store_id" not in rows[0]
    deleted = call(
        api,
        CAMPAIGN_PATH,
        advertiser_id=advertiser_id,
        filtering={**product, "primary_status": "STATUS_DELETE"},
    )["data"]["list"]
    assert [r["secondary_status"] for r in deleted] == ["CAMPAIGN_STATUS_DELETE"]
    too_big = call(
        api, CAMPAIGN_PATH, advertiser_id=advertiser_id, filtering=product, page_size=101
    )
    assert too_big["code"] == 40002
    paged = call(api, CAMPAIGN_PATH, advertiser_id=advertiser_id, filtering=product, page_size=2)
    assert paged["data"]["page_info"]["total_page"] == 2
    eleven = {**product, "store_ids": [store_id] * 11}
    assert call(api, CAMPAIGN_PATH, advertiser_id=advertiser_id, filtering=eleven)["code"] == 40002


def test_report_takes_exactly_one_store_and_at_most_30_daily_dates(api):
    advertiser_id, store_id = own_store(api)
    assert report(api, advertiser_id, store_id)["code"] == 0
    assert report(api, advertiser_id, store_id, store_ids=[])["code"] == 40002
    assert report(api, advertiser_id, store_id, store_ids=[store_id, store_id])["code"] == 40002
    assert report(api, advertiser_id, store_id, end_date="2025-05-31")["code"] == 40002
    assert (
        report(api, advertiser_id, store_id, dimensions=["campaign_id"], end_date="2025-05-31")[
            "code"
        ]
        == 0
    )


def test_report_metrics_belong_to_the_promotion_type(api):
    advertiser_id, store_id = own_store(api)
    live_in_product = report(api, advertiser_id, store_id, metrics=["cost", "live_views"])
    assert live_in_product["code"] == 40002 and "live_views" in live_in_product["message"]
    live = report(
        api,
        advertiser_id,
        store_id,
        metrics=["cost", "live_views", "10_second_live_views"],
        filtering={"gmv_max_promotion_types": ["LIVE"]},
    )
    assert live["code"] == 0 and live["data"]["list"]
    no_type = report(api, advertiser_id, store_id, filtering={})
    assert no_type["code"] == 40002


def test_report_refuses_a_store_the_advertiser_may_not_report_on(api):
    first, second = advertiser_ids(api)[:2]
    for advertiser_id in (first, second):
        stores = call(api, STORE_LIST_PATH, advertiser_id=advertiser_id)["data"]["store_list"]
        foreign = next(s for s in stores if not s["is_gmv_max_available"])
        refused = report(api, advertiser_id, foreign["store_id"])
        assert refused["code"] == 40001 and foreign["store_id"] in refused["message"]


def test_report_leaves_deleted_campaigns_out_unless_asked(api):
    advertiser_id, store_id = own_store(api)
    world = gmv_max_world(api)
    deleted = {
        c.campaign_id
        for c in world.campaigns
        if c.store_id == store_id and c.primary_status == "STATUS_DELETE"
    }
    assert deleted
    default = {
        r["dimensions"]["campaign_id"] for r in report(api, advertiser_id, store_id)["data"]["list"]
    }
    everything = report(
        api,
        advertiser_id,
        store_id,
        filtering={"gmv_max_promotion_types": ["PRODUCT"], "campaign_statuses": ALL_STATUSES},
    )["data"]["list"]
    assert not default & deleted
    assert {r["dimensions"]["campaign_id"] for r in everything} & deleted


def test_report_values_are_strings_and_zero_orders_give_zero_ratios(api):
    advertiser_id, store_id = own_store(api)
    rows = report(
        api,
        advertiser_id,
        store_id,
        start_date="2025-01-01",
        end_date="2025-01-30",
        filtering={"gmv_max_promotion_types": ["PRODUCT"], "campaign_statuses": ALL_STATUSES},
    )["data"]["list"]
    assert rows and all(isinstance(v, str) for r in rows for v in r["metrics"].values())
    assert all(r["dimensions"]["stat_time_day"].endswith(" 00:00:00") for r in rows)
    no_orders = [r["metrics"] for r in rows if r["metrics"]["orders"] == "0"]
    assert no_orders and all(
        m["roi"] == "0.00" and m["cost_per_order"] == "0.00" for m in no_orders
    )


def test_report_has_no_rows_after_the_advertisers_today(api):
    advertiser_id, store_id = own_store(api)
    api.now = datetime(2025, 5, 10, 12, tzinfo=timezone.utc)
    rows = report(api, advertiser_id, store_id)["data"]["list"]
    assert rows and max(r["dimensions"]["stat_time_day"] for r in rows) <= "2025-05-10 00:00:00"


def test_the_report_path_has_its_own_8_qps_tier(api):
    advertiser_id, store_id = own_store(api)
    assert api.qps_limit is None  # the app itself is not limited here

    def one(_: int) -> int:
        return report(api, advertiser_id, store_id, start_date="2025-05-01", end_date="2025-05-01")[
            "code"
        ]

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(one, range(12)))
    assert codes.count(40100) >= 1
    assert api.path_peak_qps(REPORT_PATH) == 8
    # Other paths are not held to it.
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        stores = list(
            pool.map(lambda _: call(api, STORE_LIST_PATH, advertiser_id=advertiser_id), range(12))
        )
    assert all(body["code"] == 0 for body in stores)


def test_a_path_limit_can_be_lifted(api):
    advertiser_id, store_id = own_store(api)
    api.set_path_qps_limit(REPORT_PATH, None)
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda _: report(api, advertiser_id, store_id)["code"], range(12)))
    assert set(codes) == {0}
