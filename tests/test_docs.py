"""What the tap says about itself matches what it does.

The README's settings table and Meltano snippet, meltano.yml's capabilities, setting kinds,
defaults and selections, `tap-tiktok --help`, and the packaging a fresh install relies on.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import TAP_EXECUTABLE, catalog_selecting, tap_config

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MELTANO_YML = REPO / "meltano.yml"

# Settings every SDK tap with these capabilities has; meltano.yml need not declare them.
SDK_SETTINGS = {
    "stream_maps",
    "stream_map_config",
    "faker_config",
    "flattening_enabled",
    "flattening_max_depth",
    "flattening_max_key_length",
    "flattening_separator",
    "batch_config",
}


def settings_rows(markdown: str) -> list[str]:
    start = markdown.index("| Setting |")
    rows = []
    for line in markdown[start:].splitlines():
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def about_json() -> dict[str, Any]:
    about = subprocess.run(
        [TAP_EXECUTABLE, "--about", "--format=json"], capture_output=True, text=True, check=True
    )
    return json.loads(about.stdout)


def meltano_project() -> dict[str, Any]:
    return yaml.safe_load(MELTANO_YML.read_text())


def meltano_extractor() -> dict[str, Any]:
    [extractor] = [
        p for p in meltano_project()["plugins"]["extractors"] if p["name"] == "tap-tiktok"
    ]
    return extractor


def environment_select(name: str) -> list[str]:
    [environment] = [e for e in meltano_project()["environments"] if e["name"] == name]
    [extractor] = environment["config"]["plugins"]["extractors"]
    return extractor["select"]


def test_readme_settings_table_is_current():
    about = subprocess.run(
        [TAP_EXECUTABLE, "--about", "--format=markdown"], capture_output=True, text=True, check=True
    ).stdout
    assert settings_rows(README.read_text()) == settings_rows(about)


def test_readme_gives_the_test_command_that_ci_runs():
    readme = README.read_text()
    ci = (README.parent / ".ci" / "run").read_text()
    assert "python -m pytest" in readme
    assert "\npython -m pytest\n" in ci


# --help


def test_help_describes_this_tap_not_the_sdk():
    result = subprocess.run(
        [TAP_EXECUTABLE, "--help"], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "Execute the Singer tap." not in result.stdout
    description = result.stdout.split("Options:")[0]
    assert "TikTok Marketing API" in description
    assert "tap-tiktok-auth" in description
    for option in ("--config", "--discover", "--catalog", "--state", "--about"):
        assert option in result.stdout


# meltano.yml against --about


def test_meltano_capabilities_are_the_taps():
    assert sorted(meltano_extractor()["capabilities"]) == sorted(about_json()["capabilities"])


def test_readme_meltano_snippet_capabilities_are_the_taps():
    [line] = re.findall(r"^\s*capabilities: \[(.*)\]\s*$", README.read_text(), re.MULTILINE)
    listed = [c.strip() for c in line.split(",")]
    assert sorted(listed) == sorted(about_json()["capabilities"])


# How each JSON Schema type of the tap's settings is declared to Meltano.
KIND_OF_TYPE = {
    ("string", None): "string",
    ("string", "date"): "date_iso8601",
    ("string", "date-time"): "date_iso8601",
    ("boolean", None): "boolean",
    ("integer", None): "integer",
    ("number", None): "decimal",
    ("array", None): "array",
    ("object", None): "object",
}


# Numbers Meltano passes as whole numbers on purpose: whole seconds are enough, and Meltano 4.4
# cannot pass a `decimal` setting from an environment variable (its config file writer fails).
WHOLE_NUMBER_SETTINGS = {"request_timeout", "max_retry_seconds"}


def test_meltano_settings_are_the_taps_with_matching_kinds_and_defaults():
    properties = about_json()["settings"]["properties"]
    declared = {s["name"]: s for s in meltano_extractor()["settings"]}

    assert set(declared) == set(properties) - SDK_SETTINGS
    for name, setting in declared.items():
        schema = properties[name]
        [json_type] = [t for t in schema["type"] if t != "null"]
        expected = KIND_OF_TYPE[(json_type, schema.get("format"))]
        if name in WHOLE_NUMBER_SETTINGS:
            expected = "integer"
        assert setting["kind"] == expected, name
        if "value" in setting or "default" in schema:
            assert setting.get("value") == schema.get("default"), name


def test_fractional_request_budgets_are_numbers_in_meltano():
    """Shards split an app's QPS: 2.5 requests per second must be a valid value (Meltano calls the kind `decimal`)."""
    kinds = {s["name"]: s["kind"] for s in meltano_extractor()["settings"]}
    assert kinds["max_requests_per_second"] == "decimal"


@pytest.mark.parametrize("environment", ["demo", "prod"])
def test_meltano_selections_name_streams_the_tap_discovers(environment, tmp_path):
    config = {"start_date": "2025-01-01", **meltano_extractor()["config"]}
    (tmp_path / "config.json").write_text(json.dumps(config))
    discovered = subprocess.run(
        [TAP_EXECUTABLE, "--config", str(tmp_path / "config.json"), "--discover"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    streams = {s["tap_stream_id"] for s in json.loads(discovered.stdout)["streams"]}
    selected = {pattern.removesuffix(".*") for pattern in environment_select(environment)}
    assert selected <= streams


def test_prod_selects_entities_and_daily_basic_reports_only():
    assert sorted(environment_select("prod")) == sorted(
        [
            "advertisers.*",
            "campaigns.*",
            "ad_groups.*",
            "ads.*",
            "advertiser_report_daily.*",
            "campaign_report_daily.*",
            "ad_group_report_daily.*",
            "ad_report_daily.*",
        ]
    )


def loader(name: str) -> dict[str, Any]:
    [plugin] = [p for p in meltano_project()["plugins"]["loaders"] if p["name"] == name]
    return plugin


def test_postgres_loader_is_configured_by_parts_that_env_vars_can_override():
    """A committed sqlalchemy_url would silently win over TARGET_POSTGRES_HOST, _DATABASE..."""
    plugin = loader("target-postgres")
    config = plugin["config"]
    assert "sqlalchemy_url" not in config
    assert {"host", "user", "database"} <= set(config)
    # The loader wants every part, a password included, even where the server trusts the user.
    defaults = {s["name"]: s.get("value") for s in plugin["settings"]}
    assert defaults["port"] == 5432 and defaults["password"] == ""


# Packaging


def test_time_zones_work_without_a_system_zoneinfo_database(api, tmp_path):
    """Slim containers and Windows have no /usr/share/zoneinfo; the tzdata package stands in."""
    advertiser = next(a for a in api.data.advertisers if a["display_timezone"] == "Asia/Tokyo")
    config = tap_config(
        api,
        advertiser_ids=[advertiser["advertiser_id"]],
        start_date="2025-03-10",
        end_date="2025-03-10",
    )
    (tmp_path / "config.json").write_text(json.dumps(config))
    catalog = catalog_selecting(config, ["advertiser_report_hourly"])
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    # An empty PYTHONTZPATH hides the system database from zoneinfo, as on those systems.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_")}
    result = subprocess.run(
        [
            TAP_EXECUTABLE,
            "--config",
            str(tmp_path / "config.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "PYTHONTZPATH": ""},
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert "no known time zone" not in result.stderr
    hours = [
        json.loads(line)["record"]["stat_time_hour"]
        for line in result.stdout.splitlines()
        if '"type":"RECORD"' in line.replace(" ", "")
    ]
    assert hours
    # Tokyo keeps no daylight saving time: every hour is at +09:00.
    assert {datetime.fromisoformat(h).utcoffset() for h in hours} == {timedelta(hours=9)}
