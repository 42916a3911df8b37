"""Report streams against the fake API: exact rows, windows, time zones, lookback, state."""

from __future__ import annotations

import datetime
import decimal
import math
import zoneinfo
from typing import Any

import pytest

from tap_tiktok_reporting import clock
from tap_tiktok_reporting.api.errors import TikTokAPIError
from tap_tiktok_reporting.reports.definitions import BUILTIN_REPORTS
from tests.conftest import catalog_selecting, run_cli, run_sync, tap_config
from tests.fake_api import Fault

D = datetime.date
REPORT_PATH = "report/integrated/get/"
BUILTIN = {d.name: d for d in BUILTIN_REPORTS}
STATUS_FIELD = {
    "AUCTION_CAMPAIGN": "campaign_status",
    "AUCTION_ADGROUP": "adgroup_status",
    "AUCTION_AD": "ad_status",
}


# Truth, computed here from the fake's raw rows ----------------------------------------------


def chunks(start: D, end: D, days: int) -> list[tuple[D, D]]:
    out = []
    while start <= end:
        stop = min(end, start + datetime.timedelta(days=days - 1))
        out.append((start, stop))
        start = stop + datetime.timedelta(days=1)
    return out


def advertiser_zone(api, advertiser_id: str) -> zoneinfo.ZoneInfo:
    profile = next(a for a in api.data.advertisers if a["advertiser_id"] == advertiser_id)
    return zoneinfo.ZoneInfo(profile["display_timezone"])


def truth_rows(
    api,
    advertiser_id: str,
    query: dict[str, Any],
    start: D | None,
    end: D | None,
    include_deleted: bool = True,
) -> list[dict]:
    """The fake's rows for a query over any range (split as TikTok requires)."""
    status = STATUS_FIELD.get(query["data_level"])
    filtering = list(query.get("filtering", []))
    if include_deleted and status and not any(f["field_name"] == status for f in filtering):
        filtering.append(
            {"field_name": status, "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
        )
    if start is None:
        return api.complete_report_rows(
            advertiser_id, query_lifetime=True, filtering=filtering, **_query(query)
        )
    span = 1 if "stat_time_hour" in query["dimensions"] else 30
    rows = []
    for first, last in chunks(start, end, span):
        rows += api.complete_report_rows(
            advertiser_id, start_date=first, end_date=last, filtering=filtering, **_query(query)
        )
    return rows


def _query(query: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in query.items()
        if k in ("report_type", "data_level", "dimensions", "metrics")
    }


def expected_record(api, advertiser_id: str, row: dict) -> dict[str, Any]:
    """A raw TikTok row as the tap should emit it (typed here independently of the tap)."""
    record: dict[str, Any] = {"advertiser_id": advertiser_id}
    for name, value in row["metrics"].items():
        record[name] = None if value == "-" else value
    for name, value in row["dimensions"].items():
        if name == "stat_time_day":
            value = value[:10]
        elif name == "stat_time_hour":
            local = datetime.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
            value = local.replace(tzinfo=advertiser_zone(api, advertiser_id)).isoformat()
        record[name] = value
    return record


def same_value(got: Any, want: Any) -> bool:
    if want is None or got is None:
        return got is None and want is None
    if isinstance(got, bool):
        return False
    if isinstance(got, (int, decimal.Decimal)):
        return decimal.Decimal(str(got)) == decimal.Decimal(str(want))
    return got == want


def assert_stream_equals_truth(
    records: list[dict], expected: list[dict], keys: tuple[str, ...]
) -> None:
    got = {tuple(r[k] for k in keys): r for r in records}
    assert len(got) == len(records), "duplicate primary keys"
    want = {tuple(r[k] for k in keys): r for r in expected}
    assert set(got) == set(want)
    for key, expected_record_ in want.items():
        record = got[key]
        for name, value in expected_record_.items():
            assert same_value(record[name], value), (key, name, record[name], value)


def definition_query(name: str) -> dict[str, Any]:
    d = BUILTIN[name]
    return {
        "report_type": d.report_type.value,
        "data_level": d.level.api_name,
        "dimensions": list(d.dimensions),
        "metrics": list(d.metrics),
    }


def expected_for(
    api, query: dict, start: D | None, end: D | None, include_deleted: bool = True
) -> list[dict]:
    out = []
    for advertiser in api.data.advertisers:
        advertiser_id = advertiser["advertiser_id"]
        rows = truth_rows(api, advertiser_id, query, start, end, include_deleted)
        out += [expected_record(api, advertiser_id, row) for row in rows]
    return out


def assert_builtin_equals_truth(
    api, records: list[dict], name: str, start: D, end: D, include_deleted: bool = True
) -> None:
    """A built-in report stream's records equal the fake's truth for start..end."""
    expected = expected_for(api, definition_query(name), start, end, include_deleted)
    assert_stream_equals_truth(records, expected, BUILTIN[name].primary_keys)


STATUS_ALL_ADS = [
    {"field_name": "ad_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
]
TOPVIEW_ONLY = [
    {"field_name": "buying_type", "filter_type": "IN", "filter_value": '["RESERVATION_TOP_VIEW"]'}
]


def topview_advertisers(api) -> set[str]:
    """Advertisers with TopView campaigns, from the fake's data."""
    return {
        c["advertiser_id"]
        for c in api.data.campaigns
        if api.data.buying_type(c["campaign_id"]) == "RESERVATION_TOP_VIEW"
    }


def report_requests(api) -> list:
    return [r for r in api.requests if r.path == REPORT_PATH]


# Tests ---------------------------------------------------------------------------------------


LEVEL_IDS = {
    "advertiser": "advertiser_id",
    "campaign": "campaign_id",
    "ad_group": "adgroup_id",
    "ad": "ad_id",
}
GRAIN_TIME = {"daily": ["stat_time_day"], "hourly": ["stat_time_hour"], "lifetime": []}
BREAKDOWNS = {
    "age_gender": ["age", "gender"],
    "country": ["country_code"],
    "platform": ["platform"],
}


def expected_builtin_keys() -> dict[str, list[str]]:
    """The 24 built-in streams the issue names and their keys, written out here, not imported."""
    keys = {}
    for prefix, id_dim in LEVEL_IDS.items():
        ids = ["advertiser_id"] + ([id_dim] if id_dim != "advertiser_id" else [])
        for grain, time_dims in GRAIN_TIME.items():
            keys[f"{prefix}_report_{grain}"] = ids + time_dims
        for breakdown, dims in BREAKDOWNS.items():
            keys[f"{prefix}_report_daily_by_{breakdown}"] = [*ids, "stat_time_day", *dims]
    return keys


def test_every_builtin_report_equals_the_fake_truth(api):
    start, end = D(2025, 5, 1), D(2025, 5, 2)
    builtin_keys = expected_builtin_keys()
    assert set(BUILTIN) == set(builtin_keys)
    out = run_sync(tap_config(api, start_date=str(start), end_date=str(end)), streams=list(BUILTIN))
    for name, keys in builtin_keys.items():
        assert out.schemas[name]["key_properties"] == keys, name
    audience_breakdowns = {"age", "gender", "country_code", "platform"}
    for request in report_requests(api):
        is_audience = bool(audience_breakdowns & set(request.params["dimensions"]))
        assert request.params["report_type"] == ("AUDIENCE" if is_audience else "BASIC")
    for name, definition in BUILTIN.items():
        lifetime = definition.is_lifetime
        expected = expected_for(
            api, definition_query(name), None if lifetime else start, None if lifetime else end
        )
        assert expected, name
        assert_stream_equals_truth(out.records[name], expected, definition.primary_keys)
        schema = out.schemas[name]["schema"]["properties"]
        assert schema["impressions"]["type"][0] == "integer"
        assert schema["spend"]["type"][0] == "number"
    hourly = out.records["ad_report_hourly"][0]["stat_time_hour"]
    assert hourly[-6:] in ("-07:00", "+09:00", "+02:00")


CUSTOM_REPORTS = [
    {
        "name": "adgroup_hourly_by_country",
        "report_type": "BASIC",
        "data_level": "ADGROUP",
        "aggregation": "HOUR",
        "dimensions": ["country_code"],
        "metrics": ["spend", "impressions", "clicks", "ctr", "adgroup_name"],
    },
    {
        "name": "campaign_age_gender",
        "report_type": "AUDIENCE",
        "data_level": "AUCTION_CAMPAIGN",
        "dimensions": ["age", "gender"],
        "metrics": ["spend", "impressions", "conversion", "cost_per_conversion", "campaign_name"],
    },
    {
        "name": "ad_platform",
        "report_type": "AUDIENCE",
        "data_level": "AD",
        "dimensions": ["platform"],
        "metrics": ["spend", "clicks", "ad_name"],
    },
    {
        "name": "ad_lifetime",
        "data_level": "AD",
        "aggregation": "LIFETIME",
        "metrics": ["spend", "impressions", "video_views_p100", "ad_name", "adgroup_name"],
    },
    {
        "name": "account_money",
        "data_level": "ADVERTISER",
        "metrics": ["spend", "cash_spend", "voucher_spend", "currency"],
    },
]


def test_custom_reports_of_each_type_level_and_grain(api):
    start, end = D(2025, 6, 1), D(2025, 6, 2)
    config = tap_config(api, start_date=str(start), end_date=str(end), reports=CUSTOM_REPORTS)
    out = run_sync(config, streams=[r["name"] for r in CUSTOM_REPORTS])
    queries = {
        "adgroup_hourly_by_country": (
            "BASIC",
            "AUCTION_ADGROUP",
            ["adgroup_id", "stat_time_hour", "country_code"],
        ),
        "campaign_age_gender": (
            "AUDIENCE",
            "AUCTION_CAMPAIGN",
            ["campaign_id", "stat_time_day", "age", "gender"],
        ),
        "ad_platform": ("AUDIENCE", "AUCTION_AD", ["ad_id", "stat_time_day", "platform"]),
        "ad_lifetime": ("BASIC", "AUCTION_AD", ["ad_id"]),
        "account_money": ("BASIC", "AUCTION_ADVERTISER", ["advertiser_id", "stat_time_day"]),
    }
    for report in CUSTOM_REPORTS:
        report_type, level, dims = queries[report["name"]]
        query = {
            "report_type": report_type,
            "data_level": level,
            "dimensions": dims,
            "metrics": report["metrics"],
        }
        lifetime = report.get("aggregation") == "LIFETIME"
        expected = expected_for(api, query, None if lifetime else start, None if lifetime else end)
        assert expected, report["name"]
        keys = ("advertiser_id", *[d for d in dims if d != "advertiser_id"])
        assert_stream_equals_truth(out.records[report["name"]], expected, keys)


def test_windows_are_30_dates_and_requests_are_the_minimum(api):
    # One advertiser per request: the minimum is counted per advertiser here.
    config = tap_config(
        api,
        start_date="2025-01-01",
        end_date="2025-03-31",
        page_size=40,
        advertisers_per_report_request=1,
    )
    out = run_sync(config, streams=["ad_report_daily"])
    requests = report_requests(api)
    advertisers = [a["advertiser_id"] for a in api.data.advertisers]
    windows = [
        ("2025-01-01", "2025-01-30"),
        ("2025-01-31", "2025-03-01"),
        ("2025-03-02", "2025-03-31"),
    ]
    expected_requests = 0
    for advertiser_id in advertisers:
        sent = {
            (r.params["start_date"], r.params["end_date"])
            for r in requests
            if r.params["advertiser_id"] == advertiser_id
        }
        assert sent == set(windows)
        for first, last in windows:
            for filtering in [STATUS_ALL_ADS, STATUS_ALL_ADS + TOPVIEW_ONLY]:
                if filtering is not STATUS_ALL_ADS and advertiser_id not in topview_advertisers(
                    api
                ):
                    continue  # no TopView objects: no TopView query
                rows = api.report_rows(
                    advertiser_id,
                    start_date=first,
                    end_date=last,
                    filtering=filtering,
                    **_query(definition_query("ad_report_daily")),
                )
                expected_requests += max(1, math.ceil(len(rows) / 40))
    assert len(requests) == expected_requests
    assert len(out.records["ad_report_daily"]) == len(
        expected_for(api, definition_query("ad_report_daily"), D(2025, 1, 1), D(2025, 3, 31))
    )


def test_hourly_reports_ask_one_day_at_a_time(api):
    config = tap_config(api, start_date="2024-02-28", end_date="2024-03-01")
    run_sync(config, streams=["campaign_report_hourly"])
    sent = sorted({(r.params["start_date"], r.params["end_date"]) for r in report_requests(api)})
    assert sent == [
        ("2024-02-28", "2024-02-28"),
        ("2024-02-29", "2024-02-29"),
        ("2024-03-01", "2024-03-01"),
    ]


@pytest.fixture
def pinned_now(api, monkeypatch):
    moment = datetime.datetime(2025, 6, 10, 20, 0, tzinfo=datetime.timezone.utc)
    monkeypatch.setattr(clock, "utc_now", lambda: moment)
    api.now = moment
    return moment


def test_today_is_each_advertisers_own_east_and_west_of_utc(api, pinned_now):
    # One advertiser per request, so each request shows one advertiser's dates.
    config = tap_config(api, start_date="2025-06-08", advertisers_per_report_request=1)
    out = run_sync(config, streams=["advertiser_report_daily"])
    zones = {a["advertiser_id"]: a["display_timezone"] for a in api.data.advertisers}
    ends = {r.params["advertiser_id"]: r.params["end_date"] for r in report_requests(api)}
    marks = {
        p["context"]["advertiser_id"]: p["replication_key_value"]
        for p in out.final_state["bookmarks"]["advertiser_report_daily"]["partitions"]
    }
    for advertiser_id, zone in zones.items():
        local_today = pinned_now.astimezone(zoneinfo.ZoneInfo(zone)).date().isoformat()
        assert ends[advertiser_id] == local_today
        assert marks[advertiser_id] == local_today
    tokyo = next(a for a, z in zones.items() if z == "Asia/Tokyo")
    los_angeles = next(a for a, z in zones.items() if z == "America/Los_Angeles")
    assert ends[tokyo] == "2025-06-11" and ends[los_angeles] == "2025-06-10"
    days = {
        (r["advertiser_id"], r["stat_time_day"]) for r in out.records["advertiser_report_daily"]
    }
    assert (tokyo, "2025-06-11") in days  # a UTC "today" would have lost this day


def test_hourly_rows_across_dst_carry_the_right_offsets(api):
    berlin = next(
        a["advertiser_id"] for a in api.data.advertisers if a["display_timezone"] == "Europe/Berlin"
    )
    for day in (D(2025, 3, 30), D(2025, 10, 26)):
        api.clear_log()
        config = tap_config(api, start_date=str(day), end_date=str(day), advertiser_ids=[berlin])
        out = run_sync(config, streams=["advertiser_report_hourly"])
        records = out.records["advertiser_report_hourly"]
        expected = [
            expected_record(api, berlin, r)
            for r in truth_rows(api, berlin, definition_query("advertiser_report_hourly"), day, day)
        ]
        assert_stream_equals_truth(records, expected, ("advertiser_id", "stat_time_hour"))
        offsets = {r["stat_time_hour"][-6:] for r in records}
        assert offsets == {"+01:00", "+02:00"}
        instants = [datetime.datetime.fromisoformat(r["stat_time_hour"]) for r in records]
        assert len(set(instants)) == len(instants)


def test_lookback_rereads_restated_days_and_nothing_older(api):
    config = tap_config(api, start_date="2025-05-01", end_date="2025-05-20", lookback_days=3)
    first = run_sync(config, streams=["campaign_report_daily"])
    api.restate([D(2025, 5, 18), D(2025, 5, 19), D(2025, 5, 10)], extra_conversions=7)
    api.clear_log()

    second = run_sync(config, streams=["campaign_report_daily"], state=first.final_state)

    assert {(r.params["start_date"], r.params["end_date"]) for r in report_requests(api)} == {
        ("2025-05-17", "2025-05-20")
    }
    before = {
        (r["campaign_id"], r["stat_time_day"]): r for r in first.records["campaign_report_daily"]
    }
    after = {
        (r["campaign_id"], r["stat_time_day"]): r for r in second.records["campaign_report_daily"]
    }
    assert {day for _, day in after} == {"2025-05-17", "2025-05-18", "2025-05-19", "2025-05-20"}
    restated = [k for k in after if k[1] in ("2025-05-18", "2025-05-19")]
    assert restated
    for key in restated:  # 7 more per delivering ad of the campaign
        added = after[key]["conversion"] - before[key]["conversion"]
        assert added > 0 and added % 7 == 0
    assert_builtin_equals_truth(
        api,
        second.records["campaign_report_daily"],
        "campaign_report_daily",
        D(2025, 5, 17),
        D(2025, 5, 20),
    )


def test_bookmark_advances_over_days_without_rows(api):
    config = tap_config(api, start_date="2023-03-01", end_date="2023-04-15", lookback_days=0)
    out = run_sync(config, streams=["ad_report_daily"])
    assert out.records["ad_report_daily"] == []
    marks = {
        p["replication_key_value"]
        for p in out.final_state["bookmarks"]["ad_report_daily"]["partitions"]
    }
    assert marks == {"2023-04-15"}
    api.clear_log()
    run_sync(config, streams=["ad_report_daily"], state=out.final_state)
    assert {(r.params["start_date"], r.params["end_date"]) for r in report_requests(api)} == {
        ("2023-04-15", "2023-04-15")
    }


def test_an_interrupted_run_resumes_with_nothing_lost(api):
    # One advertiser per request: the fault below hits one advertiser's window.
    config = tap_config(
        api,
        start_date="2025-01-01",
        end_date="2025-03-31",
        lookback_days=0,
        advertisers_per_report_request=1,
    )
    # Fail for good on the second advertiser's second window (whatever the order requests
    # go out in: later windows and advertisers are fetched ahead).
    second_advertiser = api.data.advertisers[1]["advertiser_id"]
    window = {"advertiser_id": second_advertiser, "start_date": "2025-01-31"}
    api.inject(Fault(kind="code", code=40105, path=REPORT_PATH, when=window))
    first = run_sync(config, streams=["ad_report_daily"], expect_error=TikTokAPIError)
    assert first.states, "state was checkpointed before the failure"
    # Requests the failed run had in flight may still be answered: let them land first.
    api.wait_until_idle()
    api.clear_log()
    second = run_sync(config, streams=["ad_report_daily"], state=first.final_state)

    keys = BUILTIN["ad_report_daily"].primary_keys
    expected = expected_for(api, definition_query("ad_report_daily"), D(2025, 1, 1), D(2025, 3, 31))
    union = {
        tuple(r[k] for k in keys): r
        for r in first.records["ad_report_daily"] + second.records["ad_report_daily"]
    }
    assert_stream_equals_truth(list(union.values()), expected, keys)
    # Windows finished before the failure are not read again: each advertiser resumes at its
    # bookmark (the last full window's end; with lookback 0 that day itself is re-read).
    first_dates: dict[str, str] = {}
    for request in report_requests(api):
        advertiser, start = request.params["advertiser_id"], request.params["start_date"]
        first_dates[advertiser] = min(start, first_dates.get(advertiser, start))
    advertisers = [a["advertiser_id"] for a in api.data.advertisers]
    assert [first_dates[a] for a in advertisers] == ["2025-03-31", "2025-01-30", "2025-01-01"]
    # The first two advertisers have TopView objects: each window costs them a second query.
    assert topview_advertisers(api) == set(advertisers[:2])
    assert len(report_requests(api)) == (1 + 3) * 2 + 3


def test_query_too_large_halves_the_window(api):
    api.report_max_days_before_too_large = 8
    config = tap_config(api, start_date="2025-04-01", end_date="2025-04-30")
    out = run_sync(config, streams=["campaign_report_daily"])
    assert_builtin_equals_truth(
        api,
        out.records["campaign_report_daily"],
        "campaign_report_daily",
        D(2025, 4, 1),
        D(2025, 4, 30),
    )
    spans = {
        (r.params["start_date"], r.params["end_date"]) for r in report_requests(api) if r.code == 0
    }
    assert all((D.fromisoformat(b) - D.fromisoformat(a)).days + 1 <= 8 for a, b in spans)
    assert "splitting the window" in out.log


def test_deleted_objects_spend_is_kept_only_when_asked(api):
    start, end = D(2025, 5, 1), D(2025, 5, 10)
    deleted_ads = {
        a["ad_id"] for a in api.data.ads if a.get("secondary_status") == "AD_STATUS_DELETE"
    }
    with_deleted = run_sync(
        tap_config(api, start_date=str(start), end_date=str(end)), streams=["ad_report_daily"]
    )
    assert deleted_ads & {r["ad_id"] for r in with_deleted.records["ad_report_daily"]}
    # Every query asks for deleted ads; TopView ones (a second query) also for TopView rows.
    assert all(
        r.params["filtering"] in (STATUS_ALL_ADS, STATUS_ALL_ADS + TOPVIEW_ONLY)
        for r in report_requests(api)
    )

    api.clear_log()
    without = run_sync(
        tap_config(api, start_date=str(start), end_date=str(end), include_deleted=False),
        streams=["ad_report_daily"],
    )
    assert not deleted_ads & {r["ad_id"] for r in without.records["ad_report_daily"]}
    assert_builtin_equals_truth(
        api,
        without.records["ad_report_daily"],
        "ad_report_daily",
        start,
        end,
        include_deleted=False,
    )


def test_tiktok_refusing_a_report_names_it(api, tmp_path):
    report = {
        "name": "experimental",
        "data_level": "AD",
        "metrics": ["spend", "tiktok_shop_gmv_2027"],
    }
    config = tap_config(api, start_date="2025-05-01", end_date="2025-05-02", reports=[report])
    result = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["experimental"]))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    line = next(ln for ln in result.stderr.splitlines() if "TikTok API error" in ln)
    assert (
        "code 40002" in line and "tiktok_shop_gmv_2027" in line and "report 'experimental'" in line
    )


def test_advertiser_profiles_are_fetched_once_for_the_stream_and_the_time_zones(api):
    config = tap_config(api, start_date="2025-05-01", end_date="2025-05-02")
    out = run_sync(config, streams=["advertisers", "campaign_report_daily", "ad_report_hourly"])
    assert len(out.records["advertisers"]) == len(api.data.advertisers)
    assert api.count("advertiser/info/") == 1
