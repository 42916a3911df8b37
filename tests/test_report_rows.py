"""Report rows: flat, typed, with TikTok's non-values as nulls and local hours carrying their offset."""

from __future__ import annotations

import decimal
import zoneinfo

from tap_tiktok_reporting.reports.catalog import LEVELS, Aggregation, ReportType
from tap_tiktok_reporting.reports.definitions import ReportDefinition
from tap_tiktok_reporting.reports.rows import (
    ReportRowFlattener,
    advertiser_time_zone,
    to_count,
    to_decimal,
)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def definition(aggregation: Aggregation, metrics: tuple[str, ...]) -> ReportDefinition:
    return ReportDefinition(
        name="r",
        report_type=ReportType.BASIC,
        level=LEVELS["AD"],
        aggregation=aggregation,
        breakdowns=(),
        metrics=metrics,
    )


def test_metrics_are_typed_and_non_values_become_null():
    flat = ReportRowFlattener(
        definition(
            Aggregation.DAY, ("spend", "impressions", "ctr", "ad_name", "new_metric", "reach")
        ),
        BERLIN,
    )
    record = flat.flatten(
        {
            "dimensions": {"ad_id": "7299999999999999999", "stat_time_day": "2024-02-29 00:00:00"},
            "metrics": {
                "spend": "1234.50",
                "impressions": "5830",
                "ctr": "-",
                "ad_name": "Spring ",
                "new_metric": "x",
            },
        },
        "42",
    )
    assert record == {
        "advertiser_id": "42",
        "ad_id": "7299999999999999999",
        "stat_time_day": "2024-02-29",
        "spend": decimal.Decimal("1234.50"),
        "impressions": 5830,
        "ctr": None,
        "ad_name": "Spring ",
        "new_metric": "x",
        "reach": None,
    }


def test_number_parsing_handles_what_tiktok_and_fixtures_send():
    assert to_count("<5") is None
    assert to_count(12) == 12
    assert to_count("12.0") == 12
    assert to_count("1.5") is None
    assert to_decimal(0.1) == decimal.Decimal("0.1")
    assert to_decimal("1,234.56") == decimal.Decimal("1234.56")
    assert to_decimal("N/A") is None
    assert to_decimal("NaN") is None
    assert to_decimal(True) is None


def test_hours_carry_the_advertisers_offset_across_dst():
    flat = ReportRowFlattener(definition(Aggregation.HOUR, ("spend",)), BERLIN)

    def hour(text: str) -> str:
        return flat.flatten(
            {"dimensions": {"ad_id": "1", "stat_time_hour": text}, "metrics": {}}, "9"
        )["stat_time_hour"]

    assert hour("2025-03-30 01:00:00") == "2025-03-30T01:00:00+01:00"
    assert hour("2025-03-30 03:00:00") == "2025-03-30T03:00:00+02:00"
    assert hour("2025-10-26 01:00:00") == "2025-10-26T01:00:00+02:00"
    assert hour("2025-10-26 03:00:00") == "2025-10-26T03:00:00+01:00"


def test_time_zone_prefers_the_named_zone():
    assert (
        advertiser_time_zone({"display_timezone": "Asia/Tokyo", "timezone": "Etc/GMT-9"}).key
        == "Asia/Tokyo"
    )
    assert (
        advertiser_time_zone({"display_timezone": "Nowhere/Else", "timezone": "Etc/GMT+8"}).key
        == "Etc/GMT+8"
    )
    assert advertiser_time_zone({}) is None
