"""TopView rows in campaign, ad group and ad reports: complete, counted once, at a known cost.

TikTok serves report rows of TopView (RESERVATION_TOP_VIEW) objects below advertiser level
only to a query whose `buying_type` filter asks for them (facts §17); the fake does the same.
Expected rows come from the fake's data and endpoint, never from the tap.
"""

from __future__ import annotations

import datetime
import decimal
from collections import defaultdict
from typing import Any

import pytest

from tap_tiktok_reporting.api.errors import TikTokAPIError
from tests.conftest import run_sync, tap_config
from tests.fake_api import Fault

D = datetime.date
REPORT_PATH = "report/integrated/get/"
CAMPAIGN_PATH = "campaign/get/"
TOPVIEW = "RESERVATION_TOP_VIEW"
TOPVIEW_FILTER = {
    "field_name": "buying_type",
    "filter_type": "IN",
    "filter_value": f'["{TOPVIEW}"]',
}
STATUS_FIELD = {"campaign": "campaign_status", "adgroup": "adgroup_status", "ad": "ad_status"}
START, END = "2025-05-01", "2025-05-03"


def status_all(level: str) -> list[dict[str, str]]:
    return [
        {"field_name": STATUS_FIELD[level], "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
    ]


def topview_ids(api, level: str) -> dict[str, str]:
    """TopView objects of a level (id -> advertiser), from the fake's data."""
    return {
        row[f"{level}_id"]: row["advertiser_id"]
        for row in api.data.snapshot(level)
        if api.data.buying_type(row[f"{level}_id"]) == TOPVIEW
    }


def topview_advertisers(api) -> set[str]:
    return set(topview_ids(api, "campaign").values())


def is_topview_query(request) -> bool:
    return any(f.get("field_name") == "buying_type" for f in request.params.get("filtering") or [])


def asked_advertisers(request) -> list[str]:
    return request.params.get("advertiser_ids") or [request.params["advertiser_id"]]


def report_requests(api) -> list:
    return [r for r in api.requests if r.path == REPORT_PATH and r.code == 0]


def truth(api, level: str, dimensions: list[str], metrics: list[str], **query: Any) -> set[tuple]:
    """Keys (advertiser, dimension values) of every row, TopView ones fetched as TikTok says."""
    keys = set()
    for advertiser in api.data.advertisers:
        advertiser_id = advertiser["advertiser_id"]
        for extra in ([], [TOPVIEW_FILTER]):
            rows = api.report_rows(
                advertiser_id,
                report_type=query.get("report_type", "BASIC"),
                data_level=f"AUCTION_{level.upper()}",
                dimensions=dimensions,
                metrics=metrics,
                filtering=status_all(level) + extra,
                **{k: v for k, v in query.items() if k != "report_type"},
            )
            keys |= {
                (
                    advertiser_id,
                    *(
                        row["dimensions"][d][:10] if d == "stat_time_day" else row["dimensions"][d]
                        for d in dimensions
                    ),
                )
                for row in rows
            }
    return keys


def record_keys(records: list[dict], dimensions: list[str]) -> list[tuple]:
    return [(r["advertiser_id"], *(str(r[d]) for d in dimensions)) for r in records]


@pytest.fixture
def setup(api):
    """The small dataset has advertisers with and without TopView campaigns."""
    with_topview = topview_advertisers(api)
    all_ids = {a["advertiser_id"] for a in api.data.advertisers}
    assert with_topview and all_ids - with_topview
    return api


BUILTIN = [
    ("campaign_report_daily", "campaign", ["campaign_id", "stat_time_day"], {}),
    ("ad_group_report_daily", "adgroup", ["adgroup_id", "stat_time_day"], {}),
    ("ad_report_daily", "ad", ["ad_id", "stat_time_day"], {}),
    ("campaign_report_lifetime", "campaign", ["campaign_id"], {"query_lifetime": True}),
    (
        "ad_report_daily_by_age_gender",
        "ad",
        ["ad_id", "stat_time_day", "age", "gender"],
        {"report_type": "AUDIENCE"},
    ),
]


def test_builtin_reports_hold_topview_rows_once_each(setup):
    api = setup
    out = run_sync(tap_config(api, start_date=START, end_date=END), streams=[b[0] for b in BUILTIN])
    for stream, level, dimensions, query in BUILTIN:
        dated = {} if query.get("query_lifetime") else {"start_date": START, "end_date": END}
        expected = truth(api, level, dimensions, ["spend"], **query, **dated)
        got = record_keys(out.records[stream], dimensions)
        assert len(got) == len(set(got)), f"{stream}: a row came out twice"
        assert set(got) == expected, stream
        # TopView objects are among them.
        ids = {r[f"{level}_id"] for r in out.records[stream]}
        assert ids & set(topview_ids(api, level)), stream


def test_topview_spend_is_counted_once(setup):
    """Campaign rows (regular and TopView) add up to the advertiser rows, which hold all."""
    api = setup
    streams = ["advertiser_report_daily", "campaign_report_daily", "ad_report_daily"]
    out = run_sync(tap_config(api, start_date=START, end_date=END), streams=streams)
    totals: dict[str, dict[tuple, decimal.Decimal]] = {
        s: defaultdict(decimal.Decimal) for s in streams
    }
    for stream in streams:
        for record in out.records[stream]:
            totals[stream][(record["advertiser_id"], record["stat_time_day"])] += decimal.Decimal(
                str(record["spend"])
            )
    assert totals["advertiser_report_daily"]
    assert totals["campaign_report_daily"] == totals["advertiser_report_daily"]
    assert totals["ad_report_daily"] == totals["advertiser_report_daily"]
    topview_spend = sum(
        decimal.Decimal(str(r["spend"]))
        for r in out.records["campaign_report_daily"]
        if r["campaign_id"] in topview_ids(api, "campaign")
    )
    assert topview_spend > 0


def test_only_advertisers_with_topview_objects_cost_a_topview_query(setup):
    api = setup
    with_topview = topview_advertisers(api)
    out = run_sync(
        tap_config(api, start_date=START, end_date=END, advertisers_per_report_request=1),
        streams=["campaign_report_daily", "ad_report_daily"],
    )
    assert out.records["campaign_report_daily"]
    # The lookup: one campaign/get/ request per advertiser, one TopView campaign at most, once
    # per run however many report streams need it.
    lookups = [
        r
        for r in api.requests
        if r.path == CAMPAIGN_PATH and r.params["filtering"].get("buying_types") == [TOPVIEW]
    ]
    assert sorted(r.params["advertiser_id"] for r in lookups) == sorted(
        a["advertiser_id"] for a in api.data.advertisers
    )
    assert all(int(r.params["page_size"]) == 1 for r in lookups)
    assert api.count(CAMPAIGN_PATH) == len(lookups)
    # Reports: one query per advertiser, stream and window, plus one TopView query for each of
    # the advertisers with TopView objects (a single 3-date window, each answer one page).
    requests = report_requests(api)
    topview_queries = [r for r in requests if is_topview_query(r)]
    assert {r.params["advertiser_id"] for r in topview_queries} == with_topview
    assert len(topview_queries) == 2 * len(with_topview)
    assert len(requests) == 2 * len(api.data.advertisers) + 2 * len(with_topview)


def test_advertiser_reports_alone_need_no_lookup(setup):
    api = setup
    out = run_sync(
        tap_config(api, start_date=START, end_date=END), streams=["advertiser_report_daily"]
    )
    assert out.records["advertiser_report_daily"]
    assert api.count(CAMPAIGN_PATH) == 0
    assert not any(is_topview_query(r) for r in report_requests(api))


def test_topview_queries_batch_the_advertisers_that_have_topview(setup):
    api = setup
    with_topview = topview_advertisers(api)
    config = tap_config(api, start_date=START, end_date=END)
    batched = run_sync(config, streams=["ad_report_daily"])
    requests = report_requests(api)
    regular = [r for r in requests if not is_topview_query(r)]
    topview = [r for r in requests if is_topview_query(r)]
    assert [sorted(asked_advertisers(r)) for r in regular] == [
        sorted(a["advertiser_id"] for a in api.data.advertisers)
    ]
    assert [sorted(asked_advertisers(r)) for r in topview] == [sorted(with_topview)]
    api.clear_log()
    alone = run_sync({**config, "advertisers_per_report_request": 1}, streams=["ad_report_daily"])
    key = ["ad_id", "stat_time_day"]
    assert sorted(record_keys(batched.records["ad_report_daily"], key)) == sorted(
        record_keys(alone.records["ad_report_daily"], key)
    )
    assert batched.final_state["bookmarks"] == alone.final_state["bookmarks"]


@pytest.mark.parametrize(
    ("buying_type", "keeps_topview"), [("RESERVATION_TOP_VIEW", True), ("AUCTION", False)]
)
def test_a_custom_reports_own_buying_type_filter_is_respected(setup, buying_type, keeps_topview):
    api = setup
    report = {
        "name": "my_campaigns",
        "data_level": "CAMPAIGN",
        "metrics": ["spend"],
        "filters": [
            {"field_name": "buying_type", "filter_type": "IN", "filter_value": [buying_type]}
        ],
    }
    config = tap_config(api, start_date=START, end_date=END, reports=[report])
    out = run_sync(config, streams=["my_campaigns"])
    assert api.count(CAMPAIGN_PATH) == 0  # no lookup, no extra query
    requests = report_requests(api)
    assert len(requests) == 1  # all advertisers in one request, one window
    ids = {r["campaign_id"] for r in out.records["my_campaigns"]}
    assert ids
    topview = set(topview_ids(api, "campaign"))
    assert (ids <= topview) if keeps_topview else not (ids & topview)


def test_custom_reports_below_advertiser_level_hold_topview_rows(setup):
    api = setup
    report = {
        "name": "adgroup_by_country",
        "data_level": "ADGROUP",
        "dimensions": ["country_code"],
        "metrics": ["spend", "impressions"],
    }
    config = tap_config(api, start_date=START, end_date=END, reports=[report])
    out = run_sync(config, streams=["adgroup_by_country"])
    dimensions = ["adgroup_id", "stat_time_day", "country_code"]
    got = record_keys(out.records["adgroup_by_country"], dimensions)
    assert len(got) == len(set(got))
    expected = truth(api, "adgroup", dimensions, ["spend"], start_date=START, end_date=END)
    assert set(got) == expected
    assert {r["adgroup_id"] for r in out.records["adgroup_by_country"]} & set(
        topview_ids(api, "adgroup")
    )


def test_a_window_is_bookmarked_only_after_its_topview_rows(setup):
    api = setup
    advertiser_id = sorted(topview_advertisers(api))[0]
    config = tap_config(
        api,
        start_date="2025-01-01",
        end_date="2025-02-15",
        lookback_days=0,
        advertiser_ids=[advertiser_id],
    )
    # The second window's TopView query fails for good; its regular query succeeds.
    second_topview = {
        "advertiser_id": advertiser_id,
        "start_date": "2025-01-31",
        "filtering": [*status_all("campaign"), TOPVIEW_FILTER],
    }
    api.inject(Fault(kind="code", code=40105, path=REPORT_PATH, when=second_topview))
    first = run_sync(config, streams=["campaign_report_daily"], expect_error=TikTokAPIError)
    (partition,) = first.final_state["bookmarks"]["campaign_report_daily"]["partitions"]
    assert partition["replication_key_value"] == "2025-01-30"

    api.wait_until_idle()
    api.clear_log()
    second = run_sync(config, streams=["campaign_report_daily"], state=first.final_state)
    asked = {(r.params["start_date"], is_topview_query(r)) for r in report_requests(api)}
    assert asked == {("2025-01-30", False), ("2025-01-30", True)}
    dimensions = ["campaign_id", "stat_time_day"]
    union = set(record_keys(first.records["campaign_report_daily"], dimensions)) | set(
        record_keys(second.records["campaign_report_daily"], dimensions)
    )
    expected = {
        key
        for key in truth(
            api, "campaign", dimensions, ["spend"], start_date="2025-01-01", end_date="2025-01-30"
        )
        | truth(
            api, "campaign", dimensions, ["spend"], start_date="2025-01-31", end_date="2025-02-15"
        )
        if key[0] == advertiser_id
    }
    assert union == expected
