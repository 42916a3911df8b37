"""GMV Max streams against the fake API: exact rows, deleted campaigns, windows, bookmarks, QPS."""

from __future__ import annotations

import datetime
import decimal
from collections import Counter
from typing import Any

import pytest

from tap_tiktok_reporting.api.errors import TikTokAPIError
from tap_tiktok_reporting.tap import TapTikTok
from tests.conftest import catalog_selecting, records_by_id, run_cli, run_sync, tap_config
from tests.fake_api import Fault
from tests.fake_api.gmv_max import REPORT_PATH, gmv_max_report_rows
from tests.fake_api.gmv_max_data import CAMPAIGN_TYPE_NAMES, gmv_max_world
from tests.test_reports import assert_stream_equals_truth, chunks

D = datetime.date
STORES, CAMPAIGNS, REPORT = "gmv_max_stores", "gmv_max_campaigns", "gmv_max_campaign_report_daily"
REPORT_KEYS = ("advertiser_id", "store_id", "campaign_id", "stat_time_day")
# Campaign-level metrics of each type, as section 16 lists them (written here, not imported).
_ATTRIBUTES = ["campaign_name", "operation_status", "schedule_type", "schedule_start_time"]
_ATTRIBUTES += ["schedule_end_time", "bid_type", "target_roi_budget", "max_delivery_budget"]
_SALES = ["roas_bid", "cost", "net_cost", "orders", "cost_per_order", "gross_revenue", "roi"]
METRICS = {
    "PRODUCT": _ATTRIBUTES + _SALES,
    "LIVE": [
        *_ATTRIBUTES,
        *("tt_account_name", "tt_account_profile_image_url", "identity_id"),
        *_SALES,
        *("live_views", "cost_per_live_view", "10_second_live_views"),
        *("cost_per_10_second_live_view", "live_follows"),
    ],
}
COUNTS = {"orders", "live_views", "10_second_live_views", "live_follows"}
TEXTS = {"campaign_name", "operation_status", "schedule_type", "bid_type", "tt_account_name"}
TEXTS |= {"tt_account_profile_image_url", "identity_id"}
TIMES = {"schedule_start_time", "schedule_end_time"}


def iso_utc(text: str | None) -> str | None:
    if text in (None, "", "-"):
        return None
    moment = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    return moment.replace(tzinfo=datetime.timezone.utc).isoformat()


def may_report(store: dict[str, Any], advertiser_id: str) -> bool:
    exclusive = store.get("exclusive_authorized_advertiser_info") or {}
    return store["is_gmv_max_available"] and exclusive.get("advertiser_id") == advertiser_id


def reportable_stores(api) -> list[tuple[str, str]]:
    world = gmv_max_world(api)
    return [
        (advertiser_id, store["store_id"])
        for advertiser_id, stores in world.stores.items()
        for store in stores
        if may_report(store, advertiser_id)
    ]


def typed(metric: str, value: str) -> Any:
    """A metric's string as the tap should emit it (typed here, independently of the tap)."""
    if value == "-":
        return None
    if metric in TIMES:
        return iso_utc(value)
    if metric in TEXTS:
        return value
    if metric in COUNTS:
        return int(value)
    return decimal.Decimal(value)


def expected_report(api, start: D, end: D, stores=None, include_deleted: bool = True) -> list:
    records = []
    for advertiser_id, store_id in stores or reportable_stores(api):
        for promotion, metrics in METRICS.items():
            filtering: dict[str, Any] = {"gmv_max_promotion_types": [promotion]}
            if include_deleted:
                filtering["campaign_statuses"] = ["STATUS_ALL"]
            for first, last in chunks(start, end, 30):
                rows = gmv_max_report_rows(
                    api,
                    advertiser_id=advertiser_id,
                    store_ids=[store_id],
                    dimensions=["campaign_id", "stat_time_day"],
                    metrics=metrics,
                    start_date=first.isoformat(),
                    end_date=last.isoformat(),
                    filtering=filtering,
                )
                for row in rows:
                    record = {
                        "advertiser_id": advertiser_id,
                        "store_id": store_id,
                        "gmv_max_promotion_type": f"{promotion}_GMV_MAX",
                        "campaign_id": row["dimensions"]["campaign_id"],
                        "stat_time_day": row["dimensions"]["stat_time_day"][:10],
                    }
                    record |= {m: typed(m, v) for m, v in row["metrics"].items()}
                    records.append(record)
    return records


def report_requests(api) -> list:
    return [r for r in api.requests if r.path == REPORT_PATH]


def test_stores_and_campaigns_equal_the_fake_truth_deleted_included(api):
    out = run_sync(tap_config(api), streams=[STORES, CAMPAIGNS])
    world = gmv_max_world(api)
    expected_stores = {
        (advertiser_id, store["store_id"]): {
            **store,
            "advertiser_id": advertiser_id,
            "is_reportable": may_report(store, advertiser_id),
        }
        for advertiser_id, stores in world.stores.items()
        for store in stores
    }
    got_stores = {(r["advertiser_id"], r["store_id"]): r for r in out.records[STORES]}
    assert len(got_stores) == len(out.records[STORES]) == len(expected_stores) == 5
    for key, want in expected_stores.items():
        assert {k: v for k, v in got_stores[key].items() if v is not None} == want
    assert sum(r["is_reportable"] for r in out.records[STORES]) == 3

    reportable = set(reportable_stores(api))
    expected = {
        c.campaign_id: {
            **c.row,
            "create_time": iso_utc(c.row["create_time"]),
            "modify_time": iso_utc(c.row["modify_time"]),
            "store_id": c.store_id,
            "gmv_max_promotion_type": CAMPAIGN_TYPE_NAMES[c.promotion],
        }
        for c in world.campaigns
        if (c.row["advertiser_id"], c.store_id) in reportable
    }
    got = records_by_id(out.records[CAMPAIGNS], "campaign_id")
    assert got == expected
    statuses = Counter(r["secondary_status"] for r in got.values())
    assert statuses["CAMPAIGN_STATUS_DELETE"] == 2 * len(reportable)
    assert {r["gmv_max_promotion_type"] for r in got.values()} == {
        "PRODUCT_GMV_MAX",
        "LIVE_GMV_MAX",
    }
    assert api.count("gmv_max/store/list/") == len(api.data.advertisers)  # once each, not twice

    without = run_sync(tap_config(api, include_deleted=False), streams=[CAMPAIGNS])
    assert {r["campaign_id"] for r in without.records[CAMPAIGNS]} == {
        i for i, r in expected.items() if r["secondary_status"] != "CAMPAIGN_STATUS_DELETE"
    }


def test_report_equals_the_fake_truth_typed_in_30_day_windows_one_store_each(api):
    start, end = D(2025, 3, 1), D(2025, 5, 15)
    out = run_sync(tap_config(api, start_date=str(start), end_date=str(end)), streams=[REPORT])
    expected = expected_report(api, start, end)
    assert len(expected) > 500
    assert_stream_equals_truth(out.records[REPORT], expected, REPORT_KEYS)
    deleted = {
        c.campaign_id for c in gmv_max_world(api).campaigns if c.primary_status == "STATUS_DELETE"
    }
    assert deleted & {r["campaign_id"] for r in out.records[REPORT]}

    schema = out.schemas[REPORT]
    assert schema["key_properties"] == list(REPORT_KEYS)
    properties = schema["schema"]["properties"]
    for name in ("cost", "gross_revenue", "roi", "net_cost", "cost_per_order"):
        assert properties[name]["type"][0] == "number", name
    assert properties["orders"]["type"][0] == "integer"
    record = next(r for r in out.records[REPORT] if r["gmv_max_promotion_type"] == "LIVE_GMV_MAX")
    assert isinstance(record["orders"], int) and isinstance(record["cost"], decimal.Decimal)

    reportable = set(reportable_stores(api))
    windows = {
        ("2025-03-01", "2025-03-30"),
        ("2025-03-31", "2025-04-29"),
        ("2025-04-30", "2025-05-15"),
    }
    sent = Counter()
    for request in report_requests(api):
        params = request.params
        assert len(params["store_ids"]) == 1
        assert (params["advertiser_id"], params["store_ids"][0]) in reportable
        assert (params["start_date"], params["end_date"]) in windows
        promotion = params["filtering"]["gmv_max_promotion_types"]
        assert params["metrics"] == METRICS[promotion[0]] or set(params["metrics"]) == set(
            METRICS[promotion[0]]
        )
        sent[(params["advertiser_id"], params["store_ids"][0], promotion[0])] += 1
    assert set(sent) == {(a, s, p) for a, s in reportable for p in METRICS}

    without = run_sync(
        tap_config(api, start_date="2025-05-01", end_date="2025-05-15", include_deleted=False),
        streams=[REPORT],
    )
    assert not deleted & {r["campaign_id"] for r in without.records[REPORT]}
    assert_stream_equals_truth(
        without.records[REPORT],
        expected_report(api, D(2025, 5, 1), D(2025, 5, 15), include_deleted=False),
        REPORT_KEYS,
    )


def test_the_report_is_unselected_by_default_and_the_other_two_are_selected(api):
    catalog = TapTikTok(config=tap_config(api), validate_config=False).catalog_dict
    roots = {
        s["tap_stream_id"]: next(m["metadata"] for m in s["metadata"] if m["breadcrumb"] == [])
        for s in catalog["streams"]
    }
    assert roots[REPORT]["selected"] is False
    assert roots[STORES].get("selected", True) and roots[CAMPAIGNS].get("selected", True)


def test_bookmarks_are_per_store_lookback_rereads_and_a_new_store_starts_at_start_date(api):
    config = tap_config(api, start_date="2025-05-01", end_date="2025-05-20", lookback_days=3)
    first = run_sync(config, streams=[REPORT])
    old = reportable_stores(api)
    marks = {
        p["context"]["advertiser_id"]: p.get("store_bookmarks")
        for p in first.final_state["bookmarks"][REPORT]["partitions"]
    }
    for advertiser_id, store_id in old:
        assert marks[advertiser_id][store_id] == "2025-05-20"

    # TikTok restates a day, and the second advertiser is granted its second store.
    world = gmv_max_world(api)
    world.restate([D(2025, 5, 19)], extra_orders=5)
    second_advertiser = api.data.advertisers[1]
    new_store = world.stores[second_advertiser["advertiser_id"]][1]
    new_store["is_gmv_max_available"] = True
    new_store["exclusive_authorized_advertiser_info"] = {
        "advertiser_id": second_advertiser["advertiser_id"],
        "advertiser_name": second_advertiser["name"],
        "advertiser_status": "STATUS_ENABLE",
    }
    api.clear_log()
    second = run_sync(config, streams=[REPORT], state=first.final_state)

    starts = {
        (r.params["advertiser_id"], r.params["store_ids"][0]): r.params["start_date"]
        for r in report_requests(api)
    }
    assert {starts[key] for key in old} == {"2025-05-17"}
    assert starts[(second_advertiser["advertiser_id"], new_store["store_id"])] == "2025-05-01"
    before = {tuple(r[k] for k in REPORT_KEYS): r for r in first.records[REPORT]}
    restated = [r for r in second.records[REPORT] if r["stat_time_day"] == "2025-05-19"]
    assert restated
    for record in restated:
        assert record["orders"] - before[tuple(record[k] for k in REPORT_KEYS)]["orders"] == 5
    assert_stream_equals_truth(
        second.records[REPORT],
        expected_report(api, D(2025, 5, 17), D(2025, 5, 20), old),
        REPORT_KEYS,
    )


def test_an_interrupted_run_resumes_each_store_after_its_last_full_window(api):
    config = tap_config(api, start_date="2025-01-01", end_date="2025-03-31", lookback_days=0)
    _advertiser, store_id = reportable_stores(api)[1]
    when = {"store_ids": [store_id], "start_date": "2025-01-31"}
    api.inject(Fault(kind="code", code=40105, path=REPORT_PATH, when=when))
    first = run_sync(config, streams=[REPORT], expect_error=TikTokAPIError)
    api.wait_until_idle()
    api.clear_log()
    second = run_sync(config, streams=[REPORT], state=first.final_state)
    union = {
        tuple(r[k] for k in REPORT_KEYS): r for r in first.records[REPORT] + second.records[REPORT]
    }
    expected = expected_report(api, D(2025, 1, 1), D(2025, 3, 31))
    assert_stream_equals_truth(list(union.values()), expected, REPORT_KEYS)
    resumed = {
        r.params["start_date"] for r in report_requests(api) if r.params["store_ids"] == [store_id]
    }
    assert min(resumed) == "2025-01-30"  # its first window's last day (lookback 0), not Jan 1


def test_the_report_endpoints_8_qps_tier_is_held_with_the_app_at_10(api):
    api.qps_limit = 10  # the app's Basic tier; the fake's report path keeps its own 8
    config = tap_config(
        api,
        start_date="2025-03-01",
        end_date="2025-04-29",
        page_size=20,
        max_requests_per_second=10,
        max_requests_in_flight=10,
    )
    out = run_sync(config, streams=[REPORT])
    requests_ = report_requests(api)
    assert len(requests_) > 40  # enough to go past 8 in a second if nothing held them back
    assert [r.code for r in requests_ if r.code != 0] == []
    assert "Retrying" not in out.log
    assert api.path_peak_qps(REPORT_PATH) <= 8
    assert api.path_peak_qps(REPORT_PATH) >= 6  # and the tier is used, not starved
    assert_stream_equals_truth(
        out.records[REPORT], expected_report(api, D(2025, 3, 1), D(2025, 4, 29)), REPORT_KEYS
    )


def test_gmv_max_requests_per_second_sets_the_tier(api):
    rate = 4
    config = tap_config(
        api,
        start_date="2025-04-01",
        end_date="2025-04-29",
        page_size=20,
        gmv_max_requests_per_second=rate,
    )
    run_sync(config, streams=[REPORT])
    assert len(report_requests(api)) > 12
    assert api.path_peak_qps(REPORT_PATH) <= rate


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_a_shared_store_holds_the_gmv_max_budget_under_its_own_key(api, kind, tmp_path):
    from tests.test_shared_rate_limit import drop_budget, fresh_key, reachable_or_skip

    url = reachable_or_skip(kind)
    key, marker = fresh_key("gmv")
    config = tap_config(
        api,
        start_date="2025-05-01",
        end_date="2025-05-02",
        rate_limit_store=url,
        rate_limit_key=key,
    )
    try:
        result = run_cli(tmp_path, config, catalog=catalog_selecting(config, [REPORT]))
        assert result.returncode == 0, result.stderr[-2000:]
        assert '"stream":"gmv_max_campaign_report_daily"' in result.stdout.replace(" ", "")
        budgets = [line for line in result.stderr.splitlines() if "budget:" in line]
        assert any(f"with key '{key}:gmv_max_report'" in line for line in budgets), budgets
        assert any(f"with key '{key}'" in line for line in budgets), budgets
    finally:
        drop_budget(kind, url, marker)
