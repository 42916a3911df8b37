"""A metric TikTok refuses (40002) is dropped from a built-in report, and stops a custom one."""

from __future__ import annotations

import decimal
import json
from collections import defaultdict
from typing import Any

import pytest

from tap_tiktok_reporting.reports.catalog import invalid_metric_fields
from tests.conftest import catalog_selecting, run_cli, tap_config
from tests.fake_api import Fault

REPORT_PATH = "report/integrated/get/"
RETIRED = "engaged_view_15s"
# Built-in streams that ask for RETIRED, with the query each sends (written out here).
STREAMS = {
    "ad_report_daily": ("BASIC", "AUCTION_AD", ["ad_id", "stat_time_day"]),
    "campaign_report_lifetime": ("BASIC", "AUCTION_CAMPAIGN", ["campaign_id"]),
    "ad_group_report_daily_by_platform": (
        "AUDIENCE",
        "AUCTION_ADGROUP",
        ["adgroup_id", "stat_time_day", "platform"],
    ),
}
STATUS_ALL = {
    "AUCTION_AD": "ad_status",
    "AUCTION_CAMPAIGN": "campaign_status",
    "AUCTION_ADGROUP": "adgroup_status",
}
START, END = "2025-05-01", "2025-05-03"


def records_of(stdout: str) -> dict[str, list[dict[str, Any]]]:
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in stdout.splitlines():
        message = json.loads(line, parse_float=decimal.Decimal)
        if message["type"] == "RECORD":
            records[message["stream"]].append(message["record"])
    return records


def warnings_about(stderr: str, metric: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if "WARNING" in ln and metric in ln]


def truth(api, stream: str, metrics: list[str]) -> dict[tuple, dict[str, Any]]:
    """The fake's rows for `stream` over START..END, keyed like the tap's records."""
    report_type, level, dimensions = STREAMS[stream]
    lifetime = "stat_time_day" not in dimensions
    filtering = [
        {"field_name": STATUS_ALL[level], "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
    ]
    out = {}
    for advertiser in api.data.advertisers:
        advertiser_id = advertiser["advertiser_id"]
        rows = api.complete_report_rows(
            advertiser_id,
            report_type=report_type,
            data_level=level,
            dimensions=dimensions,
            metrics=metrics,
            start_date=None if lifetime else START,
            end_date=None if lifetime else END,
            query_lifetime=lifetime,
            filtering=filtering,
        )
        for row in rows:
            dims = {k: v[:10] if k == "stat_time_day" else v for k, v in row["dimensions"].items()}
            out[(advertiser_id, *dims.values())] = row["metrics"]
    return out


def one_query_advertiser(api) -> str:
    """An advertiser without TopView objects: a window of its reports is one query."""
    topview = {
        c["advertiser_id"]
        for c in api.data.campaigns
        if api.data.buying_type(c["campaign_id"]) == "RESERVATION_TOP_VIEW"
    }
    return next(
        a["advertiser_id"] for a in api.data.advertisers if a["advertiser_id"] not in topview
    )


def as_text(value: Any) -> str:
    return "-" if value is None else str(value)


def test_a_builtin_report_drops_a_refused_metric_for_the_rest_of_the_run(api, tmp_path):
    api.delivery.retire_metric(RETIRED)
    # One date per request, so the metric would be asked for in many windows and advertisers.
    # One advertiser per request: requests are counted per advertiser below.
    config = tap_config(
        api,
        start_date=START,
        end_date=END,
        report_window_days=1,
        advertisers_per_report_request=1,
    )
    result = run_cli(tmp_path, config, catalog=catalog_selecting(config, list(STREAMS)))

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    records = records_of(result.stdout)
    for stream, (_, _, dimensions) in STREAMS.items():
        rows = records[stream]
        assert rows, stream
        assert all(RETIRED in r and r[RETIRED] is None for r in rows), stream
        names = [k for k in rows[0] if k not in ("advertiser_id", *dimensions, RETIRED)]
        expected = truth(api, stream, names)
        got = {tuple(r[k] for k in ("advertiser_id", *dimensions)): r for r in rows}
        assert len(got) == len(rows) and set(got) == set(expected), stream
        for key, values in expected.items():
            for name in names:
                assert as_text(got[key][name]) == values[name], (stream, key, name)
        (warning,) = [w for w in warnings_about(result.stderr, RETIRED) if stream in w]
        assert "emitted as null" in warning
    assert len(warnings_about(result.stderr, RETIRED)) == len(STREAMS)
    # Only requests sent before the first refusal was read (fetched ahead) carry the metric,
    # and every one of them is asked again without it: one success per query.
    requests = [r for r in api.requests if r.path == REPORT_PATH]
    refused = [r for r in requests if r.code == 40002]
    assert len(refused) >= len(STREAMS)
    assert [r for r in requests if RETIRED in r.params["metrics"]] == refused
    # Per advertiser: 3 daily windows, 1 lifetime query, 3 audience windows; each query once
    # more, with the TopView filter, for advertisers with TopView campaigns.
    topview = {
        c["advertiser_id"]
        for c in api.data.campaigns
        if api.data.buying_type(c["campaign_id"]) == "RESERVATION_TOP_VIEW"
    }
    assert len(topview) == 2
    assert len(requests) - len(refused) == (3 + len(topview)) * (3 + 1 + 3)


@pytest.mark.parametrize(
    ("names", "refused"),
    [
        ('["engaged_view_15s"]', ["engaged_view_15s"]),
        (
            "['engaged_view_15s', \"average_video_play\"]",
            ["engaged_view_15s", "average_video_play"],
        ),
    ],
)
def test_refused_metric_names_are_read_from_either_quote_style(api, tmp_path, names, refused):
    message = (
        f"Please correct the information in invalid metric fields. Invalid metric fields: {names}."
    )
    api.inject(Fault(kind="code", code=40002, path=REPORT_PATH, message=message))
    # One advertiser and one date: one query, which the one injected refusal hits.
    one = [one_query_advertiser(api)]
    config = tap_config(api, start_date=START, end_date=START, advertiser_ids=one)
    result = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["ad_report_daily"]))

    assert result.returncode == 0, result.stderr
    rows = records_of(result.stdout)["ad_report_daily"]
    assert rows and all(r[name] is None for r in rows for name in refused)
    assert all(r["spend"] is not None for r in rows)
    (warning,) = warnings_about(result.stderr, "TikTok refuses")
    assert all(name in warning for name in refused) and "ad_report_daily" in warning


def test_a_refusal_on_a_later_page_rereads_the_query_without_repeating_rows(api, tmp_path):
    advertiser_id = one_query_advertiser(api)
    message = f"Invalid metric fields: ['{RETIRED}']."
    # Page 1 is served; page 2 is refused, so the query is read again from page 1.
    api.inject(Fault(kind="code", code=40002, path=REPORT_PATH, message=message, skip=1))
    config = tap_config(
        api, start_date=START, end_date=START, advertiser_ids=[advertiser_id], page_size=4
    )
    result = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["ad_report_daily"]))

    assert result.returncode == 0, result.stderr
    rows = records_of(result.stdout)["ad_report_daily"]
    keys = [(r["ad_id"], r["stat_time_day"]) for r in rows]
    assert len(keys) == len(set(keys))
    expected = {
        (row["dimensions"]["ad_id"], row["dimensions"]["stat_time_day"][:10])
        for row in api.complete_report_rows(
            advertiser_id,
            report_type="BASIC",
            data_level="AUCTION_AD",
            dimensions=["ad_id", "stat_time_day"],
            metrics=["spend"],
            start_date=START,
            end_date=START,
            filtering=[
                {"field_name": "ad_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
            ],
        )
    }
    assert len(expected) > 4 and set(keys) == expected  # more than one page
    assert [r[RETIRED] is None for r in rows] == [False] * 4 + [True] * (len(rows) - 4)


@pytest.mark.parametrize(
    "message",
    [
        "Invalid parameter.",  # names no metric
        # Names a metric ad_report_daily does not ask for: not a refusal of one of its metrics.
        "Please correct the information in invalid metric fields and try again. "
        "Invalid metric fields: ['voucher_spend'].",
    ],
)
def test_other_parameter_errors_on_a_builtin_report_stay_permanent(api, tmp_path, message):
    api.inject(Fault(kind="code", code=40002, path=REPORT_PATH, message=message))
    one = [one_query_advertiser(api)]
    config = tap_config(api, start_date=START, end_date=START, advertiser_ids=one)
    result = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["ad_report_daily"]))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if "TikTok API error" in ln]
    assert "code 40002" in line and "report 'ad_report_daily'" in line
    assert not warnings_about(result.stderr, "TikTok refuses")
    assert api.count(REPORT_PATH) == 1


def test_a_custom_report_asking_for_a_refused_metric_stops_with_one_line(api, tmp_path):
    api.delivery.retire_metric(RETIRED)
    report = {"name": "my_views", "data_level": "AD", "metrics": ["spend", RETIRED]}
    config = tap_config(api, start_date=START, end_date=END, reports=[report])
    result = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["my_views"]))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if "TikTok API error" in ln]
    assert "code 40002" in line and RETIRED in line and "report 'my_views'" in line
    assert "remove them from the report's metrics" in line
    assert not warnings_about(result.stderr, "TikTok refuses")
    # Not asked again: at most the queries fetched ahead went out, each once, all refused.
    requests = [r for r in api.requests if r.path == REPORT_PATH]
    assert requests and all(r.code == 40002 for r in requests)
    asked = {
        (str(r.params.get("advertiser_ids") or r.params["advertiser_id"]), r.params["start_date"])
        for r in requests
    }
    assert len(asked) == len(requests)
    assert records_of(result.stdout)["my_views"] == []


@pytest.mark.parametrize(
    ("message", "names"),
    [
        (
            "Please correct the information in invalid metric fields and try again. "
            "Invalid metric fields: ['voucher_spend', 'cash_spend'].",
            ("voucher_spend", "cash_spend"),
        ),
        ('Invalid metric fields: ["reach"]', ("reach",)),
        ("invalid metric field: [ 'a' , \"b\",c ]", ("a", "b", "c")),
        ("Invalid metric fields: []", ()),
        ("Please correct the information in invalid metric fields and try again.", ()),
        ("Invalid parameter.", ()),
        (None, ()),
    ],
)
def test_metric_names_are_parsed_from_tiktoks_message(message, names):
    assert invalid_metric_fields(message) == names
