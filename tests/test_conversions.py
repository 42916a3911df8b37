"""Raw TikTok values to record values."""

from __future__ import annotations

from tap_tiktok_reporting.conversions import (
    convert_record,
    converters_for,
    id_string,
    parse_utc,
    tiktok_utc_text,
    utc_timestamp,
)
from tap_tiktok_reporting.entities.schemas import CAMPAIGN_FIELDS, schema_of


def test_entity_times_are_utc_iso():
    assert utc_timestamp("2024-02-29 23:59:59") == "2024-02-29T23:59:59+00:00"
    assert utc_timestamp(1510740064) == "2017-11-15T10:01:04+00:00"
    assert utc_timestamp("1510740064") == "2017-11-15T10:01:04+00:00"
    assert utc_timestamp(None) is None
    assert utc_timestamp("") is None


def test_large_ids_stay_exact():
    big = 7299999999999999999  # above 2**53: a float would change it
    assert id_string(big) == "7299999999999999999"
    assert id_string("1800000000000000001") == "1800000000000000001"


def test_bookmark_round_trip_through_tiktok_filter_format():
    moment = parse_utc("2025-03-30T01:30:00+02:00")
    assert tiktok_utc_text(moment) == "2025-03-29 23:30:00"
    assert parse_utc("2025-03-29T23:30:00").isoformat() == "2025-03-29T23:30:00+00:00"


def test_converters_come_from_the_schema():
    converters = converters_for(schema_of(CAMPAIGN_FIELDS))
    row = {
        "campaign_id": 1800000000000000001,
        "advertiser_id": "7",
        "modify_time": "2025-01-02 03:04:05",
        "budget": 10.5,
        "special_industries": ["HOUSING"],
    }
    assert convert_record(row, converters) == {
        "campaign_id": "1800000000000000001",
        "advertiser_id": "7",
        "modify_time": "2025-01-02T03:04:05+00:00",
        "budget": 10.5,
        "special_industries": ["HOUSING"],
    }
