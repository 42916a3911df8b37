"""Custom report validation: every problem at once, each naming the report, the field and what is valid."""

from __future__ import annotations

import json

import pytest

from tap_tiktok_reporting.reports.catalog import Aggregation, ReportType
from tap_tiktok_reporting.reports.config import parse_custom_reports
from tests.conftest import run_cli

RESERVED = ["campaigns", "ad_report_daily"]


def errors_for(entry: dict) -> list[str]:
    return parse_custom_reports([entry], RESERVED).errors


def test_a_valid_report_becomes_a_definition():
    parsed = parse_custom_reports(
        [
            {
                "name": "spend_by_country",
                "report_type": "basic",
                "data_level": "AUCTION_CAMPAIGN",
                "dimensions": ["country_code", "campaign_id"],
                "metrics": ["spend", "impressions", "campaign_name"],
                "filters": [
                    {"field_name": "campaign_ids", "filter_type": "IN", "filter_value": ["1", "2"]}
                ],
                "lookback_days": 14,
            }
        ],
        RESERVED,
    )
    assert parsed.errors == []
    (definition,) = parsed.definitions
    assert definition.report_type is ReportType.BASIC
    assert definition.aggregation is Aggregation.DAY
    assert definition.dimensions == ("campaign_id", "stat_time_day", "country_code")
    assert definition.primary_keys == (
        "advertiser_id",
        "campaign_id",
        "stat_time_day",
        "country_code",
    )
    assert definition.filters[0].to_api() == {
        "field_name": "campaign_ids",
        "filter_type": "IN",
        "filter_value": '["1", "2"]',
    }
    assert definition.lookback_days == 14


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"data_level": "AD", "metrics": ["spend"]}, "reports[0]: name: required"),
        (
            {"name": "Bad Name", "data_level": "AD", "metrics": ["spend"]},
            "name: required: lowercase",
        ),
        (
            {"name": "campaigns", "data_level": "AD", "metrics": ["spend"]},
            "'campaigns' is already the name",
        ),
        (
            {"name": "r", "report_type": "PLAYABLE", "data_level": "AD", "metrics": ["spend"]},
            "report_type: 'PLAYABLE' is not valid; valid: BASIC, AUDIENCE",
        ),
        (
            {"name": "r", "data_level": "SHOP", "metrics": ["spend"]},
            "data_level: 'SHOP' is not valid; valid: AD, ADGROUP, ADVERTISER, CAMPAIGN",
        ),
        ({"name": "r", "metrics": ["spend"]}, "data_level: required"),
        (
            {"name": "r", "data_level": "AD", "aggregation": "WEEK", "metrics": ["spend"]},
            "aggregation: 'WEEK' is not valid; valid: DAY, HOUR, LIFETIME",
        ),
        (
            {"name": "r", "data_level": "AD", "dimensions": ["gender"], "metrics": ["spend"]},
            "'gender' is an audience dimension, only valid in AUDIENCE reports; valid breakdowns for a BASIC AD report",
        ),
        (
            {
                "name": "r",
                "report_type": "AUDIENCE",
                "data_level": "AD",
                "dimensions": ["search_terms"],
                "metrics": ["spend"],
            },
            "'search_terms' is only valid in BASIC reports",
        ),
        (
            {
                "name": "r",
                "report_type": "AUDIENCE",
                "data_level": "AD",
                "aggregation": "HOUR",
                "metrics": ["spend"],
            },
            "HOUR is only available in BASIC reports",
        ),
        (
            {
                "name": "r",
                "report_type": "AUDIENCE",
                "data_level": "AD",
                "aggregation": "LIFETIME",
                "metrics": ["spend"],
            },
            "LIFETIME is only available in BASIC reports",
        ),
        (
            {
                "name": "r",
                "data_level": "AD",
                "aggregation": "LIFETIME",
                "dimensions": ["country_code"],
                "metrics": ["spend"],
            },
            "'country_code' is not available in LIFETIME reports",
        ),
        (
            {
                "name": "r",
                "data_level": "AD",
                "aggregation": "LIFETIME",
                "dimensions": ["stat_time_day"],
                "metrics": ["spend"],
            },
            "LIFETIME reports have no time dimension",
        ),
        (
            {
                "name": "r",
                "data_level": "AD",
                "dimensions": ["stat_time_hour"],
                "metrics": ["spend"],
            },
            "at most one time dimension",
        ),
        (
            {"name": "r", "data_level": "AD", "dimensions": ["campaign_id"], "metrics": ["spend"]},
            "'campaign_id' is the id of another level",
        ),
        (
            {"name": "r", "data_level": "AD", "dimensions": ["contry_code"], "metrics": ["spend"]},
            "unknown dimension 'contry_code' (did you mean 'country_code'?)",
        ),
        (
            {"name": "r", "data_level": "AD", "metrics": ["impresions"]},
            "unknown metric 'impresions' (did you mean 'impressions'?)",
        ),
        (
            {"name": "r", "data_level": "CAMPAIGN", "metrics": ["ad_name"]},
            "attribute metric 'ad_name' is not available at the CAMPAIGN level; levels that have it: AD",
        ),
        (
            {"name": "r", "data_level": "AD", "metrics": ["cash_spend"]},
            "'cash_spend' is only available in BASIC reports at the ADVERTISER level with DAY aggregation",
        ),
        (
            {
                "name": "r",
                "data_level": "ADVERTISER",
                "aggregation": "HOUR",
                "metrics": ["voucher_spend"],
            },
            "'voucher_spend' is only available",
        ),
        (
            {
                "name": "r",
                "report_type": "AUDIENCE",
                "data_level": "AD",
                "dimensions": ["age"],
                "metrics": ["reach"],
            },
            "'reach' is not available in AUDIENCE reports",
        ),
        ({"name": "r", "data_level": "AD"}, "metrics: required"),
        ({"name": "r", "data_level": "AD", "metrics": "spend"}, "metrics: must be a list"),
        (
            {"name": "r", "data_level": "AD", "metrics": ["spend"], "colour": "red"},
            "colour: unknown field; valid fields:",
        ),
        (
            {"name": "r", "data_level": "AD", "metrics": ["spend"], "lookback_days": 400},
            "lookback_days: must be a whole number from 0 to 365",
        ),
        (
            {
                "name": "r",
                "data_level": "AD",
                "metrics": ["spend"],
                "filters": [
                    {"field_name": "ad_ids", "filter_type": "EQUALS", "filter_value": ["1"]}
                ],
            },
            "filter_type 'EQUALS' is not valid",
        ),
        (
            {
                "name": "r",
                "data_level": "AD",
                "metrics": ["spend"],
                "filters": [{"field_name": "ad_ids"}],
            },
            "filters[0]: needs field_name, filter_type and filter_value",
        ),
    ],
)
def test_each_problem_names_the_report_and_the_field(entry, expected):
    errors = errors_for(entry)
    assert any(expected in e for e in errors), errors


def test_every_problem_is_reported_at_once_and_duplicates_are_caught():
    parsed = parse_custom_reports(
        [
            {"name": "a", "data_level": "AD", "dimensions": ["gender"], "metrics": ["spnd"]},
            {"name": "a", "data_level": "XX", "metrics": ["spend"]},
        ],
        RESERVED,
    )
    assert len(parsed.errors) == 4
    assert parsed.errors[0].startswith("reports[0] 'a': dimensions:")
    assert parsed.errors[1].startswith("reports[0] 'a': metrics:")
    assert any(e.startswith("reports[1] 'a': name:") for e in parsed.errors)
    assert parsed.definitions == []


def test_unique_user_metrics_in_an_audience_report_are_each_refused_up_front():
    unique_user = ["reach", "frequency", "cost_per_1000_reached", "average_video_play_per_user"]
    entry = {
        "name": "by_age",
        "report_type": "AUDIENCE",
        "data_level": "CAMPAIGN",
        "dimensions": ["age"],
        "metrics": ["spend", *unique_user, "impresions"],
    }
    errors = errors_for(entry)
    assert len(errors) == 5, errors
    for metric in unique_user:
        assert any(
            e.startswith(f"reports[0] 'by_age': metrics: '{metric}' is not available in AUDIENCE")
            and "unique-user" in e
            for e in errors
        ), metric
    # The same metrics are fine in a BASIC report.
    assert (
        errors_for({**entry, "report_type": "BASIC", "dimensions": [], "metrics": unique_user})
        == []
    )


def test_metrics_the_catalog_does_not_know_are_allowed_with_a_warning():
    parsed = parse_custom_reports(
        [{"name": "r", "data_level": "AD", "metrics": ["spend", "tiktok_shop_gmv_2027"]}], RESERVED
    )
    assert parsed.errors == []
    assert "not in the tap's catalog" in parsed.warnings[0]


def test_discover_refuses_an_invalid_report_with_every_message_and_no_traceback(tmp_path):
    config = {
        "access_token": "tok-report-config-test",
        "start_date": "2025-01-01",
        "advertiser_ids": ["1"],
        "reports": [
            {"name": "ok", "data_level": "AD", "metrics": ["spend"]},
            {
                "name": "bad",
                "data_level": "CAMPAIGN",
                "dimensions": ["age"],
                "metrics": ["ad_name"],
            },
        ],
    }
    result = run_cli(tmp_path, config, "--discover")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "reports[1] 'bad': dimensions: 'age' is an audience dimension" in result.stderr
    assert "reports[1] 'bad': metrics: attribute metric 'ad_name'" in result.stderr


def test_discover_includes_custom_reports_with_typed_schemas(tmp_path):
    config = {
        "access_token": "tok-report-config-test",
        "start_date": "2025-01-01",
        "reports": [
            {
                "name": "hourly_by_country",
                "data_level": "ADGROUP",
                "aggregation": "HOUR",
                "dimensions": ["country_code"],
                "metrics": ["spend", "clicks", "ctr", "adgroup_name", "some_new_metric"],
            }
        ],
    }
    result = run_cli(tmp_path, config, "--discover")
    assert result.returncode == 0, result.stderr
    catalog = json.loads(result.stdout)
    stream = next(s for s in catalog["streams"] if s["tap_stream_id"] == "hourly_by_country")
    props = stream["schema"]["properties"]
    assert stream["key_properties"] == [
        "advertiser_id",
        "adgroup_id",
        "stat_time_hour",
        "country_code",
    ]
    assert props["stat_time_hour"]["format"] == "date-time"
    assert props["spend"]["type"][0] == "number"
    assert props["clicks"]["type"][0] == "integer"
    assert props["adgroup_name"]["type"][0] == "string"
    assert props["some_new_metric"]["type"][0] == "string"
