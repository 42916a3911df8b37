"""Report pages decoded with typed metrics are written as the lenient path writes them, exactly."""

from __future__ import annotations

import decimal
import json
import zoneinfo

import msgspec
import pytest
from singer_sdk.singerlib import RecordMessage

from tap_tiktok_reporting.reports.catalog import LEVELS, Aggregation, ReportType
from tap_tiktok_reporting.reports.definitions import ReportDefinition
from tap_tiktok_reporting.reports.pages import TypedReportRows
from tap_tiktok_reporting.reports.rows import ReportRowFlattener
from tap_tiktok_reporting.singer_output import BufferedMsgSpecWriter

METRICS = ("spend", "impressions", "ctr", "ad_name", "conversion", "cpc")
DEFINITION = ReportDefinition(
    name="r",
    report_type=ReportType.BASIC,
    level=LEVELS["AD"],
    aggregation=Aggregation.DAY,
    breakdowns=(),
    metrics=METRICS,
)
# TikTok writes compact JSON; the fake (and some proxies) put a space after separators.
STYLES = {"compact": {"separators": (",", ":")}, "spaced": {}}


def page(rows: list[dict], **style) -> bytes:
    body = {"code": 0, "message": "OK", "request_id": "r1", "data": {"list": rows}}
    body["data"]["page_info"] = {"page": 1, "page_size": 1000, "total_page": 1}
    return json.dumps(body, **style).encode()


def row(ad_id: str = "7299999999999999999", **metrics) -> dict:
    return {
        "dimensions": {"ad_id": ad_id, "stat_time_day": "2024-02-29 00:00:00"},
        "metrics": metrics,
    }


def written(record: dict) -> dict:
    """The record as the tap writes it, read back with exact decimals."""
    message = RecordMessage(stream="r", record=record)
    line = BufferedMsgSpecWriter().serialize_message(message)
    return msgspec.json.Decoder(float_hook=decimal.Decimal).decode(line)["record"]


def records_of(body: bytes) -> tuple[list[dict], bool]:
    """What a report stream writes of a page, and whether the typed path read it."""
    typed = TypedReportRows(DEFINITION.metrics, DEFINITION.dimensions)
    envelope = typed.envelope(body)
    if envelope is None:
        rows = msgspec.json.decode(body)["data"]["list"]
    else:
        rows = typed.rows(envelope["data"]["list"])
    took_typed_path = bool(rows) and all(r.__class__ is typed.row_type for r in rows)
    flattener = ReportRowFlattener(DEFINITION, zoneinfo.ZoneInfo("Europe/Berlin"))
    records = flattener.flatten_page(rows, "42", typed)
    return [written(record) for record in records], took_typed_path


@pytest.mark.parametrize("style", STYLES)
def test_an_ordinary_page_takes_the_typed_path_and_keeps_every_digit(style):
    body = page(
        [
            row(
                spend="139585183928920012.08",
                impressions="5830",
                ctr="-",
                ad_name='Spring "-" sale ',
                conversion="0",
                # cpc missing: TikTok left it out
            ),
            row(ad_id="1", spend="-0.00", impressions="-", ctr="1.10", ad_name="-", conversion="7"),
            row(ad_id="3", ad_name=" N/A "),
        ],
        **STYLES[style],
    )
    records, typed = records_of(body)
    assert typed
    assert records == [
        {
            "advertiser_id": "42",
            "spend": decimal.Decimal("139585183928920012.08"),
            "impressions": 5830,
            "ctr": None,
            "ad_name": 'Spring "-" sale ',
            "conversion": 0,
            "cpc": None,
            "ad_id": "7299999999999999999",
            "stat_time_day": "2024-02-29",
        },
        {
            "advertiser_id": "42",
            "spend": decimal.Decimal("-0.00"),
            "impressions": None,
            "ctr": decimal.Decimal("1.10"),
            "ad_name": None,
            "conversion": 7,
            "cpc": None,
            "ad_id": "1",
            "stat_time_day": "2024-02-29",
        },
        {
            "advertiser_id": "42",
            **dict.fromkeys(METRICS),
            "ad_id": "3",
            "stat_time_day": "2024-02-29",
        },
    ]
    # Key order is the record's column order: the advertiser, the metrics, the dimensions.
    assert list(records[0]) == ["advertiser_id", *METRICS, "ad_id", "stat_time_day"]
    assert str(records[0]["spend"]) == "139585183928920012.08"
    assert str(records[1]["ctr"]) == "1.10"


# (decimal metric value, count metric value) -> (spend, conversion) in the record
ODD_VALUES = [
    (("NaN", "1"), (None, 1)),
    (("Infinity", "1"), (None, 1)),
    (("-Infinity", "1"), (None, 1)),
    (("sNaN", "1"), (None, 1)),
    (("1,234.50", "1,234"), (decimal.Decimal("1234.50"), 1234)),
    (("12%", "<5"), (decimal.Decimal("12"), None)),
    (("", "12.5"), (None, None)),
    (("N/A", "5.0"), (None, 5)),
    (("1e5", "1e3"), (decimal.Decimal("1E+5"), 1000)),
    ((" 12.5 ", " 7 "), (decimal.Decimal("12.5"), 7)),
    ((12.5, 7), (decimal.Decimal("12.5"), 7)),
    ((None, None), (None, None)),
    ((True, False), (None, None)),
]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(("values", "expected"), ODD_VALUES, ids=[repr(v) for v, _ in ODD_VALUES])
def test_odd_values_read_as_the_lenient_path_reads_them(values, expected, style):
    spend, conversion = values
    ordinary = row(ad_id="2", spend="1.00", conversion="3", impressions="4")
    records, _ = records_of(
        page([ordinary, row(spend=spend, conversion=conversion)], **STYLES[style])
    )
    assert (records[1]["spend"], records[1]["conversion"]) == expected
    # The page's other rows are read as usual, whichever path it took.
    assert (records[0]["spend"], records[0]["conversion"]) == (decimal.Decimal("1.00"), 3)
    assert records[0]["impressions"] == 4


def test_non_finite_decimals_do_not_spoil_the_rows_other_values():
    records, _ = records_of(page([row(spend="NaN", ctr="0.25", cpc="Infinity", impressions="9")]))
    assert (records[0]["spend"], records[0]["ctr"], records[0]["cpc"]) == (
        None,
        decimal.Decimal("0.25"),
        None,
    )
    assert records[0]["impressions"] == 9


def test_an_error_envelope_is_left_to_the_plain_decoder():
    body = json.dumps({"code": 40002, "message": "bad", "request_id": "r", "data": {}}).encode()
    assert TypedReportRows(DEFINITION.metrics, DEFINITION.dimensions).envelope(body) is None


def test_rows_without_metrics_or_dimensions_are_all_null():
    records, typed = records_of(page([{"dimensions": None, "metrics": None}]))
    assert typed
    assert records == [
        {
            "advertiser_id": "42",
            **dict.fromkeys(METRICS),
            "ad_id": None,
            "stat_time_day": None,
        }
    ]
