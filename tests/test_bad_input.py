"""Bad config, state and catalog: one clear line, exit 1, no traceback, no request; suspicious input warns."""

from __future__ import annotations

import datetime
import json

import pytest

from tap_tiktok_reporting import clock
from tests.conftest import catalog_selecting, run_cli, run_sync, tap_config

REPORT_PATH = "report/integrated/get/"


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "| ERROR" in line]


def warning_lines(stderr: str) -> list[str]:
    """The tap's own warnings (the SDK has some of its own)."""
    return [ln for ln in stderr.splitlines() if "| WARNING" in ln and "| tap-tiktok " in ln]


def assert_refused_in_one_line(result, api, *parts: str) -> str:
    """Exit 1, no traceback, exactly one error line holding every part, and no request made."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "Usage:" not in result.stderr
    errors = error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    for part in parts:
        assert part in errors[0], errors[0]
    assert api.count() == 0
    return errors[0]


BAD_CONFIG = [
    pytest.param(
        {"start_date": "2025-02-30"},
        ["start_date '2025-02-30' is not a real date", "write it as YYYY-MM-DD"],
        id="start_date-not-a-real-day",
    ),
    pytest.param(
        {"start_date": "yesterday"},
        ["start_date 'yesterday' is not a date", "write it as YYYY-MM-DD"],
        id="start_date-a-word",
    ),
    pytest.param(
        {"start_date": "2025-01-01 and more"},
        ["start_date '2025-01-01 and more' is not a date"],
        id="start_date-trailing-text",
    ),
    pytest.param(
        {"end_date": "2025-13-01"},
        ["end_date '2025-13-01' is not a real date", "write it as YYYY-MM-DD"],
        id="end_date-month-13",
    ),
    pytest.param(
        {"start_date": "2025-02-01", "end_date": "2025-01-01"},
        [
            "end_date 2025-01-01 is before start_date 2025-02-01",
            "set end_date on or after start_date, or leave it out",
        ],
        id="end-before-start",
    ),
    pytest.param(
        {"api_base_url": "localhost:8080"},
        ["api_base_url 'localhost:8080' is not an http(s) URL", "http://localhost:8080"],
        id="url-without-scheme",
    ),
    pytest.param(
        {"api_base_url": "ftp://x"},
        ["api_base_url 'ftp://x' is not an http(s) URL", "https://business-api.tiktok.com"],
        id="url-ftp",
    ),
    pytest.param(
        {"advertiser_ids": ["7000000000000000001", "acct-12"]},
        ["advertiser_ids[1] 'acct-12' is not an advertiser id", "strings of digits"],
        id="advertiser-id-not-digits",
    ),
    pytest.param(
        {"advertiser_ids": [7.5]},
        ["config['advertiser_ids'][0]", "'string', 'integer'"],
        id="advertiser-id-fraction",
    ),
    pytest.param(
        {"page_size": 5000},
        ["5000 is greater than the maximum of 1000 in config['page_size']"],
        id="page_size-too-big",
    ),
    pytest.param(
        {"lookback_days": "seven"},
        ["'seven' is not of type 'integer'", "config['lookback_days']"],
        id="lookback_days-a-word",
    ),
]


@pytest.mark.parametrize("mode", [(), ("--discover",)], ids=["sync", "discover"])
@pytest.mark.parametrize(("overrides", "parts"), BAD_CONFIG)
def test_bad_config_is_refused_in_one_line_before_any_request(
    api, tmp_path, mode, overrides, parts
):
    catalog = None if mode else catalog_selecting(tap_config(api), ["campaigns"])
    result = run_cli(tmp_path, tap_config(api, **overrides), *mode, catalog=catalog)
    line = assert_refused_in_one_line(result, api, *parts)
    assert line.count("Config validation error:") == 1


def test_test_mode_refuses_bad_config_the_same_way(api, tmp_path):
    result = run_cli(tmp_path, tap_config(api, start_date="2025-02-30"), "--test")
    assert_refused_in_one_line(result, api, "Config validation error: start_date '2025-02-30'")


@pytest.mark.parametrize(
    ("mode", "with_catalog"),
    [((), True), ((), False), (("--discover",), False)],
    # Without a catalog the SDK builds the streams inside its constructor, before ours checks.
    ids=["sync", "sync-without-catalog", "discover"],
)
def test_every_config_problem_is_named_at_once(api, tmp_path, mode, with_catalog):
    config = tap_config(
        api,
        start_date="yesterday",
        api_base_url="ftp://x",
        reports=[{"name": "r", "data_level": "NOPE", "metrics": ["spend"]}],
    )
    catalog = catalog_selecting(tap_config(api), ["campaigns"]) if with_catalog else None
    result = run_cli(tmp_path, config, *mode, catalog=catalog)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert api.count() == 0
    errors = error_lines(result.stderr)
    assert len(errors) == 3, result.stderr
    assert "start_date 'yesterday'" in errors[0]
    assert "api_base_url 'ftp://x'" in errors[1]
    assert "reports[0] 'r': data_level: 'NOPE'" in errors[2]


def test_a_password_in_a_refused_url_is_not_printed(api, tmp_path):
    result = run_cli(tmp_path, tap_config(api, api_base_url="ftp://proxyuser:hunter2@proxy:21"))
    line = assert_refused_in_one_line(result, api, "api_base_url 'ftp://***@proxy:21'")
    assert "hunter2" not in result.stderr + result.stdout
    assert "proxyuser" not in line


def test_forms_users_write_that_are_accepted(api, tmp_path):
    # Meltano date settings may carry a time; YAML and env vars turn unquoted ids into integers.
    ids = [a["advertiser_id"] for a in api.data.advertisers]
    config = tap_config(
        api,
        start_date="2025-01-01T00:00:00Z",
        end_date="2025-01-31T00:00:00+00:00",
        advertiser_ids=[int(ids[0]), f" {ids[1]} ", ids[2]],
        _select=["campaigns.*"],  # an orchestrator's extra: neither an error nor a warning
    )
    result = run_cli(tmp_path, config, catalog=catalog_selecting(tap_config(api), ["campaigns"]))
    assert result.returncode == 0, result.stderr
    assert not warning_lines(result.stderr), result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    campaigns = {m["record"]["campaign_id"] for m in records if m["type"] == "RECORD"}
    assert campaigns == {c["campaign_id"] for c in api.data.campaigns}


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


BAD_FILES = [
    pytest.param("--config", None, ["Config file", "was not found"], id="config-missing"),
    pytest.param(
        "--config",
        '{"start_date": "2025-01-01",}',
        ["Config file", "is not JSON (", "line 1 column", "an object of settings"],
        id="config-not-json",
    ),
    pytest.param(
        "--config",
        '["start_date", "2025-01-01"]',
        ["Config file", "holds a JSON array, not an object", "an object of settings"],
        id="config-array",
    ),
    pytest.param("--state", None, ["State file", "was not found"], id="state-missing"),
    pytest.param("--state", "bookmarks: {}", ["State file", "is not JSON ("], id="state-not-json"),
    pytest.param(
        "--state",
        '"2025-01-01"',
        ["State file", "holds a JSON string, not an object", '{"bookmarks": {...}}'],
        id="state-string",
    ),
    pytest.param(
        "--state",
        '{"bookmarks": ["campaigns"]}',
        ["State file", "bookmarks should be an object of streams' bookmarks"],
        id="state-bookmarks-list",
    ),
    pytest.param("--catalog", None, ["Catalog file", "was not found"], id="catalog-missing"),
    pytest.param("--catalog", "", ["Catalog file", "is not JSON ("], id="catalog-empty"),
    pytest.param(
        "--catalog",
        '{"streams": {"campaigns": {}}}',
        ["Catalog file", "has no list of streams", "tap-tiktok --discover"],
        id="catalog-streams-not-a-list",
    ),
    pytest.param(
        "--catalog",
        '{"streams": [{"stream": "campaigns"}]}',
        ["Catalog file", "streams[0] has no tap_stream_id"],
        id="catalog-entry-without-id",
    ),
]


@pytest.mark.parametrize(("option", "content", "parts"), BAD_FILES)
def test_unusable_files_are_refused_in_one_line_before_any_request(
    api, tmp_path, option, content, parts
):
    name = f"{option.strip('-')}-given.json"
    path = str(tmp_path / name) if content is None else write(tmp_path, name, content)
    result = run_cli(tmp_path, tap_config(api), option, path)
    line = assert_refused_in_one_line(result, api, *parts)
    assert f"'{path}'" in line


def test_an_unknown_setting_warns_with_the_close_name_and_the_sync_goes_on(api, tmp_path):
    config = tap_config(api, lookback_day=3, colour="blue")
    result = run_cli(tmp_path, config, catalog=catalog_selecting(tap_config(api), ["campaigns"]))
    assert result.returncode == 0, result.stderr
    warnings = warning_lines(result.stderr)
    assert len(warnings) == 2, result.stderr
    assert "Unknown setting 'lookback_day' is ignored; did you mean 'lookback_days'?" in warnings[0]
    assert warnings[1].endswith("Unknown setting 'colour' is ignored")
    assert '"type":"RECORD"' in result.stdout.replace(" ", "")


def test_a_catalog_selecting_a_stream_the_tap_lacks_warns_and_the_rest_syncs(api, tmp_path):
    catalog = catalog_selecting(tap_config(api), ["campaigns"])
    for stream_id, selected in (("tiktok_spend_daily", True), ("old_unselected_stream", False)):
        catalog["streams"].append(
            {
                "tap_stream_id": stream_id,
                "schema": {"type": "object", "properties": {}},
                "metadata": [{"breadcrumb": [], "metadata": {"selected": selected}}],
            }
        )
    result = run_cli(tmp_path, tap_config(api), catalog=catalog)
    assert result.returncode == 0, result.stderr
    warnings = warning_lines(result.stderr)
    assert len(warnings) == 1, result.stderr
    assert (
        "The catalog selects stream 'tiktok_spend_daily', which this tap does not have"
        in (warnings[0])
    )
    assert "it is ignored" in warnings[0]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    streams = {m["stream"] for m in records if m["type"] == "RECORD"}
    assert streams == {"campaigns"}


# 20:00 UTC on 10 March: 11 March in Tokyo, still 10 March in Berlin and Los Angeles.
PINNED_NOW = datetime.datetime(2025, 3, 10, 20, 0, tzinfo=datetime.timezone.utc)
REPORTS = ["advertiser_report_daily", "campaign_report_daily"]


def test_a_start_date_after_every_advertisers_today_warns_once(api, monkeypatch):
    monkeypatch.setattr(clock, "utc_now", lambda: PINNED_NOW)
    out = run_sync(tap_config(api, start_date="2025-03-12"), streams=REPORTS)
    warned = [ln for ln in out.log.splitlines() if ln.startswith("WARNING") and "start_date" in ln]
    assert warned == [
        "WARNING tap-tiktok start_date 2025-03-12 is after today in every advertiser's time zone "
        "(latest: 2025-03-11): report streams have no dates to read until then"
    ]
    assert api.count(REPORT_PATH) == 0


def test_a_start_date_that_is_today_somewhere_does_not_warn(api, monkeypatch):
    # After today in UTC, but today in Tokyo: that advertiser has a date to read.
    monkeypatch.setattr(clock, "utc_now", lambda: PINNED_NOW)
    out = run_sync(tap_config(api, start_date="2025-03-11"), streams=REPORTS)
    assert not [ln for ln in out.log.splitlines() if ln.startswith("WARNING") and "start_" in ln]
    assert api.count(REPORT_PATH) > 0
