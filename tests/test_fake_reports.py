"""Tests of the fake's report/integrated/get/ (tests/fake_api/reports.py and friends)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import requests

from tests.fake_api import DatasetSpec, FakeMarketingAPI
from tests.fake_api.errors import ApiError
from tests.fake_api.report_rules import CONFLICT_MESSAGE, CORE_METRICS

UTC = timezone.utc
SPEC = DatasetSpec(seed=1, advertisers=3)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PATH = "report/integrated/get/"
COUNTS = ("impressions", "gross_impressions", "clicks", "conversion", "likes", "video_views_p25")


@pytest.fixture
def api():
    with FakeMarketingAPI(SPEC, qps_limit=None) as fake:
        fake.now = NOW
        yield fake


def encode(params: dict[str, Any]) -> dict[str, str]:
    return {k: json.dumps(v) if isinstance(v, (list, dict)) else str(v) for k, v in params.items()}


def get(api: FakeMarketingAPI, **params: Any) -> dict:
    response = requests.get(
        f"{api.base_url}/{PATH}",
        params=encode(params),
        headers={"Access-Token": api.access_token},
        timeout=10,
    )
    assert response.status_code == 200
    return response.json()


def advertiser(api: FakeMarketingAPI, tz: str = "Europe/Berlin") -> str:
    return next(a["advertiser_id"] for a in api.data.advertisers if a["timezone"] == tz)


def query(api: FakeMarketingAPI, **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "advertiser_id": advertiser(api),
        "report_type": "BASIC",
        "data_level": "AUCTION_AD",
        "dimensions": ["ad_id", "stat_time_day"],
        "metrics": ["spend", "impressions"],
        "start_date": "2025-03-01",
        "end_date": "2025-03-30",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def truth(api: FakeMarketingAPI, **overrides: Any) -> list[dict]:
    """api.report_rows for the same parameters as query()."""
    params = query(api, **overrides)
    return api.report_rows(
        params.pop("advertiser_id"),
        report_type=params.pop("report_type"),
        data_level=params.pop("data_level"),
        dimensions=params.pop("dimensions"),
        metrics=params.pop("metrics", None),
        **params,
    )


def status_filter(field: str, value: str) -> list[dict]:
    return [{"field_name": field, "filter_type": "IN", "filter_value": json.dumps([value])}]


def sums(rows: list[dict], key: Any, metrics: tuple[str, ...] = COUNTS) -> dict:
    """Sum count metrics (and spend in cents) of rows grouped by key(row)."""
    out: dict = defaultdict(lambda: defaultdict(int))
    for row in rows:
        group = out[key(row)]
        for name in metrics:
            group[name] += int(row["metrics"][name])
        if "spend" in row["metrics"]:
            group["spend_cents"] += int(Decimal(row["metrics"]["spend"]) * 100)
    return {k: dict(v) for k, v in out.items()}


# TikTok serves no unique-user metric with audience breakdowns (facts §4.4).
UNIQUE_USER = ("reach", "frequency", "cost_per_1000_reached", "average_video_play_per_user")


def all_metrics(report_type: str = "BASIC") -> list[str]:
    skip = UNIQUE_USER if report_type == "AUDIENCE" else ()
    return [m for m in CORE_METRICS if m not in skip]


# ----- envelope and paging -----


def test_envelope_paging_and_truth(api):
    params = query(api, data_level="AUCTION_CAMPAIGN", dimensions=["campaign_id", "stat_time_day"])
    first = get(api, **params, page_size=7)
    assert (first["code"], first["message"]) == (0, "OK")
    assert set(first["data"]) == {"list", "page_info"}
    info = first["data"]["page_info"]
    assert info["page"] == 1 and info["page_size"] == 7
    assert info["total_page"] == -(-info["total_number"] // 7) and info["total_number"] > 7
    rows = []
    for page in range(1, info["total_page"] + 1):
        rows += get(api, **params, page_size=7, page=page)["data"]["list"]
    assert rows == truth(api, data_level="AUCTION_CAMPAIGN", dimensions=params["dimensions"])
    keys = [(int(r["dimensions"]["campaign_id"]), r["dimensions"]["stat_time_day"]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert get(api, **params)["data"]["page_info"]["page_size"] == 10
    past = get(api, **params, page=999)["data"]
    assert past["list"] == [] and past["page_info"]["total_number"] == info["total_number"]


def test_row_shape_and_derived_metrics_from_sums(api):
    metrics = [*all_metrics(), "campaign_name", "currency"]
    rows = truth(
        api,
        data_level="AUCTION_CAMPAIGN",
        dimensions=["campaign_id", "stat_time_day"],
        metrics=metrics,
    )
    assert rows
    campaigns = {c["campaign_id"]: c for c in api.data.campaigns}
    for row in rows:
        dims, values = row["dimensions"], row["metrics"]
        assert list(values) == metrics
        assert all(isinstance(v, str) for v in (*dims.values(), *values.values()))
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} 00:00:00", dims["stat_time_day"])
        assert re.fullmatch(r"\d+\.\d\d", values["spend"])
        assert values["campaign_name"] == campaigns[dims["campaign_id"]]["campaign_name"]
        assert values["currency"] == "EUR"
        impressions, clicks = int(values["impressions"]), int(values["clicks"])
        assert int(values["reach"]) <= impressions <= int(values["gross_impressions"])
        assert clicks <= impressions
        ctr = (Decimal(clicks) * 100 / impressions).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert values["ctr"] == str(ctr)
        if int(values["conversion"]) == 0:
            assert values["cost_per_conversion"] == "0.00"


# ----- validation -----

ERRORS = [
    ({"advertiser_id": None}, 40002, "advertiser_id"),
    ({"advertiser_id": "1234567890"}, 40001, "1234567890"),
    ({"report_type": None}, 40002, "report_type"),
    ({"report_type": "CATALOG"}, 40002, "not supported by this fake"),
    ({"report_type": "NOPE"}, 40002, "report_type"),
    ({"data_level": "RESERVATION_AD"}, 40002, "not supported by this fake"),
    ({"data_level": "AUCTION_NOPE"}, 40002, "data_level"),
    ({"dimensions": None}, 40002, "dimensions"),
    ({"dimensions": ["campaign_id", "stat_time_day"]}, 40002, CONFLICT_MESSAGE),
    ({"dimensions": ["stat_time_day"]}, 40002, CONFLICT_MESSAGE),
    ({"dimensions": ["ad_id", "adgroup_id"]}, 40002, CONFLICT_MESSAGE),
    ({"dimensions": ["ad_id", "stat_time_day", "stat_time_hour"]}, 40002, "stat_time_hour"),
    ({"dimensions": ["ad_id", "gender"]}, 40002, "AUDIENCE"),
    ({"dimensions": ["ad_id", "bogus_dim"]}, 40002, "bogus_dim"),
    ({"dimensions": ["ad_id", "search_terms"]}, 40002, "not supported by this fake"),
    (
        {"report_type": "AUDIENCE", "dimensions": ["ad_id", "stat_time_hour"]},
        40002,
        "only available in BASIC",
    ),
    ({"report_type": "AUDIENCE", "dimensions": ["ad_id", "province_id"]}, 40002, "by this fake"),
    (
        {"metrics": ["spend", "bogus", "ctr", "nope"]},
        40002,
        "Please correct the information in invalid metric fields and try again. "
        "Invalid metric fields: ['bogus', 'nope'].",
    ),
    ({"metrics": ["cash_spend", "voucher_spend"]}, 40002, "['cash_spend', 'voucher_spend']"),
    (
        {
            "data_level": "AUCTION_ADVERTISER",
            "dimensions": ["advertiser_id", "stat_time_hour"],
            "metrics": ["cash_spend"],
            "end_date": "2025-03-01",
        },
        40002,
        "['cash_spend']",
    ),
    (
        {"report_type": "AUDIENCE", "dimensions": ["ad_id", "age"], "metrics": ["reach", "spend"]},
        40002,
        "['reach']",
    ),
    (
        {
            "report_type": "AUDIENCE",
            "dimensions": ["ad_id", "stat_time_day", "platform"],
            "metrics": [
                "average_video_play_per_user",
                "spend",
                "frequency",
                "cost_per_1000_reached",
            ],
        },
        40002,
        "Please correct the information in invalid metric fields and try again. Invalid metric "
        "fields: ['average_video_play_per_user', 'frequency', 'cost_per_1000_reached'].",
    ),
    (
        {
            "data_level": "AUCTION_CAMPAIGN",
            "dimensions": ["campaign_id"],
            "metrics": ["ad_name", "adgroup_name", "campaign_name"],
        },
        40002,
        "['ad_name', 'adgroup_name']",
    ),
    ({"start_date": None}, 40002, "start_date"),
    ({"end_date": "2025/03/30"}, 40002, "end_date"),
    ({"start_date": "2025-03-05", "end_date": "2025-03-04"}, 40002, "start_date"),
    ({"query_lifetime": "true", "report_type": "AUDIENCE"}, 40002, "query_lifetime"),
    ({"query_lifetime": "true"}, 40002, "query_lifetime"),  # stat_time_day with lifetime
    ({"filters": [{"field_name": "ad_ids"}]}, 40002, "filtering"),
    ({"filtering": {"ad_status": "STATUS_ALL"}}, 40002, "filtering"),
    ({"filtering": [{"field_name": "ad_status", "filter_type": "IN"}]}, 40002, "filter_value"),
    (
        {"filtering": [{"field_name": "ad_status", "filter_type": "IN", "filter_value": ["X"]}]},
        40002,
        "JSON array",
    ),
    ({"filtering": status_filter("ad_status", "STATUS_DELIVERY_OK")}, 40002, "by this fake"),
    ({"filtering": status_filter("owner", "1")}, 40002, "owner"),
    (
        {"filtering": [{"field_name": "ad_ids", "filter_type": "NOT_IN", "filter_value": '["1"]'}]},
        40002,
        "NOT_IN",
    ),
    (
        {
            "data_level": "AUCTION_CAMPAIGN",
            "dimensions": ["campaign_id"],
            "filtering": status_filter("ad_status", "STATUS_ALL"),
        },
        40002,
        "ad_status",
    ),
    ({"page_size": 1001}, 40002, "page_size"),
    (
        {"enable_total_metrics": "true", "dimensions": ["ad_id", "country_code"]},
        40002,
        "enable_total_metrics",
    ),
]


@pytest.mark.parametrize(("overrides", "code", "fragment"), ERRORS)
def test_validation_errors(api, overrides, code, fragment):
    body = get(api, **query(api, **overrides))
    assert body["code"] == code, body
    assert fragment in body["message"]
    assert body["data"] == {}


def test_conflict_message_is_exactly_the_faq_text(api):
    body = get(api, **query(api, dimensions=["adgroup_id"]))
    assert body["message"] == CONFLICT_MESSAGE


def test_report_rows_raises_the_same_errors(api):
    with pytest.raises(ApiError) as error:
        truth(api, metrics=["spend", "bogus"])
    assert error.value.code == 40002 and "['bogus']" in error.value.message


@pytest.mark.parametrize(
    ("dimensions", "allowed", "limit_text"),
    [
        (["ad_id", "stat_time_day"], 30, "30 day"),
        (["ad_id", "stat_time_hour"], 1, "1 day"),
        (["ad_id"], 365, "365 day"),
    ],
)
def test_date_span_boundaries(api, dimensions, allowed, limit_text):
    start = date(2025, 1, 1)

    def span(days: int) -> dict:
        end = start + timedelta(days=days - 1)
        return get(
            api, **query(api, dimensions=dimensions, start_date=str(start), end_date=str(end))
        )

    assert span(allowed)["code"] == 0
    refused = span(allowed + 1)
    assert refused["code"] == 40002 and limit_text in refused["message"]


# ----- time -----


def test_hourly_rows_sum_to_the_daily_row(api):
    day = "2025-05-14"
    metrics = ["spend", *COUNTS, "ctr"]
    hourly = truth(
        api, dimensions=["ad_id", "stat_time_hour"], metrics=metrics, start_date=day, end_date=day
    )
    daily = truth(
        api, dimensions=["ad_id", "stat_time_day"], metrics=metrics, start_date=day, end_date=day
    )
    assert daily and hourly
    assert all(r["dimensions"]["stat_time_hour"].startswith(day) for r in hourly)
    assert sums(hourly, lambda r: r["dimensions"]["ad_id"]) == sums(
        daily, lambda r: r["dimensions"]["ad_id"]
    )


@pytest.mark.parametrize(
    ("day", "hours", "missing"),
    [("2025-03-30", 23, "02"), ("2025-10-26", 24, None)],
)
def test_dst_days_in_berlin(api, day, hours, missing):
    common = {"data_level": "AUCTION_ADVERTISER", "start_date": day, "end_date": day}
    hourly = truth(api, dimensions=["advertiser_id", "stat_time_hour"], **common)
    labels = [r["dimensions"]["stat_time_hour"] for r in hourly]
    assert len(labels) == len(set(labels)) == hours
    assert [label[11:13] for label in labels] == [
        f"{h:02d}" for h in range(24) if f"{h:02d}" != missing
    ]
    daily = truth(api, dimensions=["advertiser_id", "stat_time_day"], **common)
    key = lambda r: r["dimensions"]["advertiser_id"]  # noqa: E731
    assert sums(hourly, key, ("impressions",)) == sums(daily, key, ("impressions",))


def test_fall_back_hour_carries_two_real_hours(api):
    """On 2025-10-26 local 02:00 happens twice in Berlin; its one row holds about twice as much."""
    common = {"data_level": "AUCTION_ADVERTISER", "dimensions": ["advertiser_id", "stat_time_hour"]}
    merged = truth(api, **common, start_date="2025-10-26", end_date="2025-10-26")
    normal = truth(api, **common, start_date="2025-10-25", end_date="2025-10-25")

    def share(rows: list[dict], hour: str) -> float:
        total = sum(int(r["metrics"]["impressions"]) for r in rows)
        row = next(r for r in rows if r["dimensions"]["stat_time_hour"].endswith(hour))
        return int(row["metrics"]["impressions"]) / total

    assert share(merged, "02:00:00") > 1.5 * share(normal, "02:00:00")


def test_future_dates_have_no_rows(api):
    # 20:00 UTC: already June 2 in Tokyo, still June 1 in Los Angeles.
    api.now = datetime(2025, 6, 1, 20, 0, tzinfo=UTC)
    for tz, last_day in (("Asia/Tokyo", "2025-06-02"), ("America/Los_Angeles", "2025-06-01")):
        rows = truth(
            api,
            advertiser_id=advertiser(api, tz),
            data_level="AUCTION_ADVERTISER",
            dimensions=["advertiser_id", "stat_time_day"],
            start_date="2025-05-25",
            end_date="2025-06-20",
        )
        assert rows[-1]["dimensions"]["stat_time_day"] == f"{last_day} 00:00:00"
    body = get(api, **query(api, start_date="2025-06-10", end_date="2025-06-20"))
    assert body["code"] == 0 and body["data"]["list"] == []
    assert body["data"]["page_info"]["total_number"] == 0


def test_deterministic_and_independent_of_wall_clock():
    with FakeMarketingAPI(SPEC, qps_limit=None) as one, FakeMarketingAPI(SPEC) as two:
        one.now, two.now = NOW, NOW + timedelta(days=200)
        assert truth(one) == truth(two)
        with FakeMarketingAPI(DatasetSpec(seed=2, advertisers=3)) as other:
            other.now = NOW
            assert truth(other) != truth(one)


# ----- levels and deleted objects -----


def test_levels_aggregate_up(api):
    metrics = ["spend", *COUNTS, "ctr"]
    ad_rows = truth(api, metrics=metrics, filtering=status_filter("ad_status", "STATUS_ALL"))
    campaign_rows = truth(
        api,
        data_level="AUCTION_CAMPAIGN",
        dimensions=["campaign_id", "stat_time_day"],
        metrics=metrics,
        filtering=status_filter("campaign_status", "STATUS_ALL"),
    )
    advertiser_rows = truth(
        api,
        data_level="AUCTION_ADVERTISER",
        dimensions=["advertiser_id", "stat_time_day"],
        metrics=metrics,
    )
    # Advertiser rows hold TopView spend; campaign and ad rows of TopView need the filter.
    topview = [*status_filter("buying_type", "RESERVATION_TOP_VIEW")]
    ad_rows += truth(
        api, metrics=metrics, filtering=status_filter("ad_status", "STATUS_ALL") + topview
    )
    campaign_rows += truth(
        api,
        data_level="AUCTION_CAMPAIGN",
        dimensions=["campaign_id", "stat_time_day"],
        metrics=metrics,
        filtering=status_filter("campaign_status", "STATUS_ALL") + topview,
    )
    campaign_of = {a["ad_id"]: a["campaign_id"] for a in api.data.ads}

    def by_campaign(r: dict) -> tuple:
        return campaign_of[r["dimensions"]["ad_id"]], r["dimensions"]["stat_time_day"]

    assert sums(ad_rows, by_campaign) == sums(
        campaign_rows, lambda r: (r["dimensions"]["campaign_id"], r["dimensions"]["stat_time_day"])
    )
    day = lambda r: r["dimensions"]["stat_time_day"]  # noqa: E731
    assert sums(campaign_rows, day) == sums(advertiser_rows, day)


@pytest.mark.parametrize("level", ["campaign", "adgroup", "ad"])
def test_topview_rows_only_with_the_buying_type_filter(api, level):
    id_field = f"{level}_id"
    advertiser_id = advertiser(api)
    topview_ids = {
        row[id_field]
        for row in api.data.snapshot(level)
        if row["advertiser_id"] == advertiser_id
        and api.data.buying_type(row[id_field]) == "RESERVATION_TOP_VIEW"
    }
    assert topview_ids, "the spec should give this advertiser TopView objects"
    everything = status_filter(f"{level}_status", "STATUS_ALL")
    overrides = {"data_level": f"AUCTION_{level.upper()}", "dimensions": [id_field]}

    def ids(filtering: list[dict]) -> set[str]:
        rows = truth(api, **overrides, filtering=filtering)
        return {r["dimensions"][id_field] for r in rows}

    default = ids(everything)
    with_topview = ids(everything + status_filter("buying_type", "RESERVATION_TOP_VIEW"))
    assert default and not default & topview_ids
    assert with_topview and with_topview <= topview_ids
    auction = ids(everything + status_filter("buying_type", "AUCTION"))
    assert auction <= default
    mixed = [
        {
            "field_name": "buying_type",
            "filter_type": "IN",
            "filter_value": '["AUCTION","RESERVATION_TOP_VIEW"]',
        }
    ]
    answer = get(api, **query(api, **overrides, filtering=mixed))
    assert answer["code"] == 40002 and "RESERVATION_TOP_VIEW" in answer["message"]


def test_deleted_objects_hidden_by_default(api):
    advertiser_id = advertiser(api)
    deleted = {
        a["ad_id"]
        for a in api.data.ads
        if a["advertiser_id"] == advertiser_id
        and a["secondary_status"] == "AD_STATUS_DELETE"
        and api.data.buying_type(a["ad_id"]) != "RESERVATION_TOP_VIEW"  # see the TopView test
    }
    assert deleted

    def ad_ids(**overrides: Any) -> set[str]:
        return {r["dimensions"]["ad_id"] for r in truth(api, dimensions=["ad_id"], **overrides)}

    default = ad_ids()
    every = ad_ids(filtering=status_filter("ad_status", "STATUS_ALL"))
    only = ad_ids(filtering=status_filter("ad_status", "STATUS_DELETE"))
    assert not default & deleted
    assert deleted <= every and only == deleted & every
    assert every == default | only
    assert ad_ids(filtering=status_filter("ad_status", "STATUS_NOT_DELETE")) == default

    # An advertiser-level report counts deleted ads too.
    total = truth(api, data_level="AUCTION_ADVERTISER", dimensions=["advertiser_id"])
    everything = status_filter("ad_status", "STATUS_ALL")
    all_ads = truth(api, dimensions=["ad_id"], filtering=everything)
    all_ads += truth(
        api,
        dimensions=["ad_id"],
        filtering=everything + status_filter("buying_type", "RESERVATION_TOP_VIEW"),
    )
    assert int(total[0]["metrics"]["impressions"]) == sum(
        int(r["metrics"]["impressions"]) for r in all_ads
    )


def test_deleting_an_object_hides_its_rows(api):
    row = truth(api, dimensions=["ad_id"])[0]
    ad_id = row["dimensions"]["ad_id"]
    api.delete("ad", ad_id, at=NOW)
    assert ad_id not in {r["dimensions"]["ad_id"] for r in truth(api, dimensions=["ad_id"])}
    body = get(
        api,
        **query(
            api,
            dimensions=["ad_id"],
            page_size=1000,
            filtering=status_filter("ad_status", "STATUS_ALL"),
        ),
    )
    assert row in body["data"]["list"]


def test_id_filters(api):
    rows = truth(api, dimensions=["ad_id"])
    wanted = [rows[0]["dimensions"]["ad_id"], rows[2]["dimensions"]["ad_id"]]
    filtering = [{"field_name": "ad_ids", "filter_type": "IN", "filter_value": json.dumps(wanted)}]
    got = truth(api, dimensions=["ad_id"], filtering=filtering)
    assert sorted(r["dimensions"]["ad_id"] for r in got) == sorted(wanted)
    campaign_id = next(a["campaign_id"] for a in api.data.ads if a["ad_id"] == wanted[0])
    numeric = f"[{campaign_id}]"  # official examples leave the IDs unquoted
    got = truth(
        api,
        dimensions=["ad_id"],
        filtering=[{"field_name": "campaign_ids", "filter_type": "IN", "filter_value": numeric}],
    )
    ads_of_campaign = {a["ad_id"] for a in api.data.ads if a["campaign_id"] == campaign_id}
    assert got and {r["dimensions"]["ad_id"] for r in got} <= ads_of_campaign


# ----- audience -----


def test_audience_splits_sum_to_the_basic_row(api):
    metrics = ["spend", *COUNTS]
    common = {"metrics": metrics, "start_date": "2025-04-01", "end_date": "2025-04-07"}
    basic = truth(api, **common)
    key = lambda r: (r["dimensions"]["ad_id"], r["dimensions"]["stat_time_day"])  # noqa: E731
    expected = sums(basic, key)
    singles = {}
    for dimension in ("age", "gender", "country_code", "platform"):
        rows = truth(
            api, report_type="AUDIENCE", dimensions=["ad_id", "stat_time_day", dimension], **common
        )
        assert sums(rows, key) == expected, dimension
        singles[dimension] = sums(rows, lambda r, d=dimension: (*key(r), r["dimensions"][d]))
    values = {
        r["dimensions"]["age"]
        for r in truth(api, report_type="AUDIENCE", dimensions=["ad_id", "age"], **common)
    }
    assert values <= {"AGE_13_17", "AGE_18_24", "AGE_25_34", "AGE_35_44", "AGE_45_54", "AGE_55_100"}
    both = truth(
        api,
        report_type="AUDIENCE",
        dimensions=["ad_id", "stat_time_day", "age", "gender"],
        **common,
    )
    for dimension in ("age", "gender"):
        assert (
            sums(both, lambda r, d=dimension: (*key(r), r["dimensions"][d])) == singles[dimension]
        )
    basic_country = truth(api, dimensions=["ad_id", "stat_time_day", "country_code"], **common)
    assert (
        sums(basic_country, lambda r: (*key(r), r["dimensions"]["country_code"]))
        == singles["country_code"]
    )


def test_audience_http_and_all_metrics(api):
    body = get(
        api,
        **query(
            api,
            report_type="AUDIENCE",
            dimensions=["adgroup_id", "gender"],
            data_level="AUCTION_ADGROUP",
            metrics=all_metrics("AUDIENCE"),
            start_date="2025-04-01",
            end_date="2025-04-03",
            page_size=1000,
        ),
    )
    assert body["code"] == 0, body
    rows = body["data"]["list"]
    assert rows and {r["dimensions"]["gender"] for r in rows} <= {"MALE", "FEMALE", "NONE"}


# ----- lifetime, totals, service type -----


def test_lifetime_is_the_sum_of_all_days(api):
    lifetime = truth(
        api,
        dimensions=["ad_id"],
        metrics=["spend", *COUNTS],
        query_lifetime=True,
        start_date=None,
        end_date=None,
    )
    windows = []
    start = date(2024, 1, 1)
    while start <= NOW.date():
        end = start + timedelta(days=364)
        windows += truth(
            api,
            dimensions=["ad_id"],
            metrics=["spend", *COUNTS],
            start_date=str(start),
            end_date=str(end),
        )
        start = end + timedelta(days=1)
    key = lambda r: r["dimensions"]["ad_id"]  # noqa: E731
    assert sums(lifetime, key) == sums(windows, key)
    body = get(
        api,
        **query(
            api,
            dimensions=["ad_id"],
            query_lifetime="true",
            start_date=None,
            end_date=None,
            page_size=100,
        ),
    )
    assert body["code"] == 0 and body["data"]["list"] == truth(
        api, dimensions=["ad_id"], query_lifetime=True, start_date=None, end_date=None
    )


def test_total_metrics(api):
    params = query(api, metrics=["spend", "impressions", "ctr", "ad_name"])
    assert "total_metrics" not in get(api, **params)["data"]
    body = get(api, **params, enable_total_metrics="true")
    rows = truth(api, metrics=["spend", "impressions"])
    totals = body["data"]["total_metrics"]
    assert int(totals["impressions"]) == sum(int(r["metrics"]["impressions"]) for r in rows)
    assert Decimal(totals["spend"]) == sum(Decimal(r["metrics"]["spend"]) for r in rows)
    assert totals["ad_name"] == "-"


def test_reservation_service_type_is_empty(api):
    body = get(api, **query(api, service_type="RESERVATION"))
    assert body["code"] == 0 and body["data"]["list"] == []


def test_advertiser_daily_cash_and_voucher(api):
    rows = truth(
        api,
        data_level="AUCTION_ADVERTISER",
        dimensions=["advertiser_id", "stat_time_day"],
        metrics=["spend", "cash_spend", "voucher_spend"],
    )
    assert rows
    for row in rows:
        values = row["metrics"]
        assert Decimal(values["cash_spend"]) + Decimal(values["voucher_spend"]) == Decimal(
            values["spend"]
        )


# ----- knobs -----


def test_restate_changes_only_the_given_days(api):
    metrics = ["conversion", "real_time_conversion", "result", "impressions", "spend"]
    before = truth(api, metrics=metrics, start_date="2025-04-01", end_date="2025-04-10")
    restated = [date(2025, 4, 3), date(2025, 4, 7)]
    api.restate(restated)
    after = truth(api, metrics=metrics, start_date="2025-04-01", end_date="2025-04-10")
    assert [r["dimensions"] for r in before] == [r["dimensions"] for r in after]
    changed_days = set()
    for old, new in zip(before, after, strict=True):
        day = old["dimensions"]["stat_time_day"][:10]
        for name in metrics:
            delta = int(Decimal(new["metrics"][name])) - int(Decimal(old["metrics"][name]))
            restated_metric = name in ("conversion", "real_time_conversion", "result")
            expected = 3 if restated_metric and date.fromisoformat(day) in restated else 0
            assert delta == expected, (day, name)
        if old != new:
            changed_days.add(day)
    assert changed_days == {"2025-04-03", "2025-04-07"}
    api.restate([date(2025, 4, 3)], extra_conversions=2)
    again = truth(api, metrics=metrics, start_date="2025-04-03", end_date="2025-04-03")
    first = [r for r in before if r["dimensions"]["stat_time_day"].startswith("2025-04-03")]
    assert [int(r["metrics"]["conversion"]) for r in again] == [
        int(r["metrics"]["conversion"]) + 5 for r in first
    ]
    body = get(
        api,
        **query(
            api, metrics=metrics, start_date="2025-04-01", end_date="2025-04-10", page_size=1000
        ),
    )
    assert body["data"]["list"] == truth(
        api, metrics=metrics, start_date="2025-04-01", end_date="2025-04-10"
    )


def test_query_too_large_knob(api):
    api.report_max_days_before_too_large = 7
    body = get(api, **query(api, start_date="2025-04-01", end_date="2025-04-08"))
    assert body["code"] == 40067 and body["message"].startswith("Query too large")
    assert get(api, **query(api, start_date="2025-04-01", end_date="2025-04-07"))["code"] == 0
    # The truth helper is for checking data, so it ignores the knob.
    assert truth(api, start_date="2025-04-01", end_date="2025-04-08")


def test_unique_user_metrics_are_served_in_basic_reports(api):
    rows = truth(api, metrics=list(UNIQUE_USER))
    assert rows and all(row["metrics"][m] != "-" for row in rows for m in UNIQUE_USER)


def test_a_retired_metric_is_refused_wherever_it_is_asked_for(api):
    before = truth(api, metrics=["spend", "engaged_view_15s", "clicks"])
    api.delivery.retire_metric("engaged_view_15s")
    refused = "Invalid metric fields: ['engaged_view_15s']."
    for overrides in (
        {"metrics": ["spend", "engaged_view_15s", "clicks"]},
        {"report_type": "AUDIENCE", "dimensions": ["ad_id", "stat_time_day", "age"]},
        {"data_level": "AUCTION_ADVERTISER", "dimensions": ["advertiser_id"]},
    ):
        params = {**overrides, "metrics": overrides.get("metrics", ["engaged_view_15s"])}
        body = get(api, **query(api, **params))
        assert (body["code"], body["data"]) == (40002, {}), body
        assert body["message"] == (
            "Please correct the information in invalid metric fields and try again. " + refused
        )
    # Named with the other refused metrics, in the order asked; other metrics are unchanged.
    body = get(api, **query(api, metrics=["bogus", "engaged_view_15s", "spend"]))
    assert body["message"].endswith("Invalid metric fields: ['bogus', 'engaged_view_15s'].")
    after = truth(api, metrics=["spend", "clicks"])
    assert after == [
        {
            "dimensions": r["dimensions"],
            "metrics": {m: r["metrics"][m] for m in ("spend", "clicks")},
        }
        for r in before
    ]


def test_scaled_money_keeps_every_digit_and_every_identity(api):
    metrics = ["spend", "cash_spend", "voucher_spend", "billed_cost", "cpc", "impressions"]
    common = {
        "data_level": "AUCTION_ADVERTISER",
        "dimensions": ["advertiser_id", "stat_time_day"],
        "metrics": metrics,
    }
    plain = truth(api, **common)
    api.delivery.scale_money(123456789012347)
    scaled = truth(api, **common)
    assert [r["dimensions"] for r in scaled] == [r["dimensions"] for r in plain]
    for old, new in zip(plain, scaled, strict=True):
        before, after = old["metrics"], new["metrics"]
        assert after["impressions"] == before["impressions"]
        for name in ("spend", "cash_spend", "voucher_spend", "billed_cost"):
            assert Decimal(after[name]) == Decimal(before[name]) * 123456789012347
            assert re.fullmatch(r"\d+\.\d\d", after[name])
        assert Decimal(after["cash_spend"]) + Decimal(after["voucher_spend"]) == Decimal(
            after["spend"]
        )
    long_values = [r["metrics"]["spend"] for r in scaled if len(r["metrics"]["spend"]) > 18]
    assert long_values
    assert all(str(Decimal(str(float(v)))) != v for v in long_values)  # a float loses them
    body = get(api, **query(api, **common, page_size=1000))
    assert body["data"]["list"] == scaled


# ----- "-" values -----


def test_dash_for_missing_values(api):
    metrics = [
        "secondary_goal_result",
        "cost_per_secondary_goal_result",
        "split_test",
        "ad_name",
        "tt_app_name",
        "impressions",
    ]
    rows = truth(api, dimensions=["ad_id"], metrics=metrics)
    secondary = {r["metrics"]["secondary_goal_result"] for r in rows}
    assert "-" in secondary and any(v.isdigit() for v in secondary)
    for row in rows:
        values = row["metrics"]
        assert values["split_test"] == values["tt_app_name"] == "-"
        assert values["ad_name"] != "-"
        if values["secondary_goal_result"] == "-":
            assert values["cost_per_secondary_goal_result"] == "-"


def test_up_to_five_advertisers_in_one_request(api):
    ids = [a["advertiser_id"] for a in api.data.advertisers]
    single = {a: get(api, **query(api, advertiser_id=a, page_size=1000)) for a in ids}
    batch = get(api, **query(api, advertiser_ids=ids, page_size=1000))
    assert batch["code"] == 0
    expected = []
    for a in ids:
        info = api.data.advertiser(a)
        for row in single[a]["data"]["list"]:
            labels = {
                "advertiser_id": a,
                "currency": info["currency"],
                "timezone": info["timezone"],
            }
            expected.append(
                {"dimensions": row["dimensions"], "metrics": {**row["metrics"], **labels}}
            )
    assert batch["data"]["list"] == expected
    assert len({r["metrics"]["timezone"] for r in expected}) > 1  # each in its own zone
    # advertiser_ids wins over advertiser_id.
    also = get(api, **query(api, advertiser_ids=ids[:1], page_size=1000))
    assert [r["dimensions"] for r in also["data"]["list"]] == [
        r["dimensions"] for r in single[ids[0]]["data"]["list"]
    ]


@pytest.mark.parametrize(
    ("overrides", "code", "fragment"),
    [
        ({"advertiser_ids": ["1", "2", "3", "4", "5", "6"]}, 40002, "at most 5"),
        ({"advertiser_ids": []}, 40002, "between 1 and 5"),
        ({"advertiser_ids": ["x"]}, 40002, "numeric"),
        (
            {"advertiser_ids": "READ", "report_type": "PLAYABLE_MATERIAL"},
            40002,
            "BASIC and AUDIENCE",
        ),
        ({"advertiser_ids": "READ+1"}, 40001, "999"),
    ],
)
def test_advertiser_batches_are_checked(api, overrides, code, fragment):
    readable = [a["advertiser_id"] for a in api.data.advertisers]
    if overrides["advertiser_ids"] == "READ":
        overrides["advertiser_ids"] = readable
    elif overrides["advertiser_ids"] == "READ+1":
        overrides["advertiser_ids"] = [*readable[:2], "999"]
    body = get(api, **query(api, **overrides))
    assert body["code"] == code
    assert fragment in body["message"]
