"""Money and rates reach stdout digit for digit: the RECORD lines' raw JSON equals TikTok's strings."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import catalog_selecting, run_cli, tap_config

REPORT_PATH = "report/integrated/get/"
START, END = "2025-05-01", "2025-05-03"
# Spends of about 10**16 with cents: more digits than a binary float holds (about 16).
MONEY_FACTOR = 123456789012347
# Queries of the streams under test, written out here.
STREAMS = {
    "advertiser_report_daily": ("AUCTION_ADVERTISER", ["advertiser_id", "stat_time_day"], None),
    "campaign_report_daily": (
        "AUCTION_CAMPAIGN",
        ["campaign_id", "stat_time_day"],
        "campaign_status",
    ),
}


def raw_records(stdout: str) -> dict[str, list[dict[str, Any]]]:
    """RECORD lines with every JSON number kept as the exact text the tap wrote."""
    records: dict[str, list[dict[str, Any]]] = {}
    for line in stdout.splitlines():
        message = json.loads(line, parse_float=str, parse_int=str)
        if message["type"] == "RECORD":
            records.setdefault(message["stream"], []).append(message["record"])
    return records


def fake_strings(api, stream: str, metrics: list[str]) -> dict[tuple[str, ...], dict[str, str]]:
    """The fake's metric strings for `stream` over START..END, keyed like the records."""
    level, dimensions, status = STREAMS[stream]
    filtering = (
        [{"field_name": status, "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}]
        if status
        else None
    )
    out = {}
    for advertiser in api.data.advertisers:
        advertiser_id = advertiser["advertiser_id"]
        for row in api.complete_report_rows(
            advertiser_id,
            report_type="BASIC",
            data_level=level,
            dimensions=dimensions,
            metrics=metrics,
            start_date=START,
            end_date=END,
            filtering=filtering,
        ):
            dims = {k: v[:10] if k == "stat_time_day" else v for k, v in row["dimensions"].items()}
            key = (advertiser_id, *(v for k, v in dims.items() if k != "advertiser_id"))
            out[key] = row["metrics"]
    return out


def test_record_lines_carry_tiktoks_digits_exactly(api, tmp_path):
    api.delivery.scale_money(MONEY_FACTOR)
    config = tap_config(api, start_date=START, end_date=END)
    result = run_cli(tmp_path, config, catalog=catalog_selecting(config, list(STREAMS)))
    assert result.returncode == 0, result.stderr
    records = raw_records(result.stdout)

    float_would_change = []
    for stream, (_, dimensions, _) in STREAMS.items():
        rows = records[stream]
        key_names = ["advertiser_id", *(d for d in dimensions if d != "advertiser_id")]
        metrics = [name for name in rows[0] if name not in key_names]
        assert {"spend", "cpc", "cpm", "ctr", "impressions"} <= set(metrics)
        expected = fake_strings(api, stream, metrics)
        assert {tuple(r[k] for k in key_names) for r in rows} == set(expected)
        for row in rows:
            truth = expected[tuple(row[k] for k in key_names)]
            for name in metrics:
                want = None if truth[name] == "-" else truth[name]
                assert row[name] == want, (stream, name, row[name], want)
                if want and want.replace(".", "").isdigit() and repr(float(want)) != want:
                    float_would_change.append(want)
    # The check has teeth: many values lose digits through a float, e.g. 37020987321132494.89.
    assert len([v for v in float_would_change if len(v.replace(".", "")) > 17]) > 10
    assert '"spend":' + records["advertiser_report_daily"][0]["spend"] in result.stdout
