"""Shared fixtures: the fake Marketing API on loopback and ways to run the tap against it."""

from __future__ import annotations

import copy
import decimal
import io
import json
import logging
import os
import subprocess
import sys
from collections import defaultdict
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tap_tiktok_reporting.tap import TapTikTok
from tests.fake_api import DatasetSpec, FakeMarketingAPI

ENTITY_STREAMS = ("advertisers", "campaigns", "ad_groups", "ads")
SMALL_SPEC = DatasetSpec(
    seed=11,
    advertisers=3,
    campaigns_per_advertiser=4,
    adgroups_per_campaign=2,
    ads_per_adgroup=2,
    deleted_fraction=0.25,
    topview_fraction=0.25,
    no_modify_time_ads=1,
)


@pytest.fixture
def api():
    """A fresh fake API with a small account tree and no QPS limit (tests that need it set one)."""
    with FakeMarketingAPI(SMALL_SPEC, qps_limit=None) as fake:
        yield fake


def tap_config(api: FakeMarketingAPI, **overrides: Any) -> dict[str, Any]:
    """A config pointing at `api`, listing every advertiser, with a generous rate limit."""
    config: dict[str, Any] = {
        "access_token": api.access_token,
        "app_id": api.app_id,
        "secret": api.secret,
        "api_base_url": api.base_url,
        "start_date": "2025-01-01",
        "advertiser_ids": [a["advertiser_id"] for a in api.data.advertisers],
        "max_requests_per_second": 500,
        "max_retry_seconds": 20,
        "request_timeout": 5,
    }
    config.update(overrides)
    return {k: v for k, v in config.items() if v is not None}


@dataclass
class SyncOutput:
    """What one run of the tap wrote: records by stream, state messages, and its log."""

    messages: list[dict[str, Any]]
    log: str
    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    states: list[dict[str, Any]] = field(default_factory=list)
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for message in self.messages:
            if message["type"] == "RECORD":
                self.records[message["stream"]].append(message["record"])
            elif message["type"] == "STATE":
                self.states.append(message["value"])
            elif message["type"] == "SCHEMA":
                self.schemas[message["stream"]] = message

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}


def catalog_selecting(config: dict[str, Any], streams: tuple[str, ...] | list[str]) -> dict:
    """The tap's discovered catalog with only `streams` selected."""
    catalog = TapTikTok(config=config, validate_config=False).catalog_dict
    unknown = set(streams) - {s["tap_stream_id"] for s in catalog["streams"]}
    assert not unknown, f"no such streams: {unknown}"
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] in streams
    return catalog


def run_sync(
    config: dict[str, Any],
    streams: tuple[str, ...] | list[str] = ENTITY_STREAMS,
    state: dict[str, Any] | None = None,
    *,
    expect_error: type[BaseException] | None = None,
) -> SyncOutput:
    """Run a sync in this process and collect its Singer messages (also those before a failure)."""
    catalog = catalog_selecting(config, streams)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            tap = TapTikTok(
                config=config, catalog=catalog, state=copy.deepcopy(state), validate_config=True
            )
            try:
                tap.sync_all()
            except Exception as exc:
                if expect_error is None or not isinstance(exc, expect_error):
                    raise
            else:
                assert expect_error is None, f"expected {expect_error.__name__}"
            out.flush()
    finally:
        root.removeHandler(handler)
    out.seek(0)
    messages = [
        json.loads(line, parse_float=decimal.Decimal)
        for line in out.read().splitlines()
        if line.strip()
    ]
    return SyncOutput(messages=messages, log=err.getvalue())


TAP_EXECUTABLE = str(Path(sys.executable).with_name("tap-tiktok"))


def run_cli(
    tmp_path: Path,
    config: dict[str, Any],
    *args: str,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the `tap-tiktok` command as users do, with files for config, state and catalog.

    The caller's TAP_TIKTOK_* variables are dropped; `env` adds variables for this run only.
    """
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    command = [TAP_EXECUTABLE, "--config", str(config_path), *args]
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        command += ["--state", str(tmp_path / "state.json")]
    if catalog is not None:
        (tmp_path / "catalog.json").write_text(json.dumps(catalog))
        command += ["--catalog", str(tmp_path / "catalog.json")]
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_")}
    run_env.update(env or {})
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=run_env, check=False
    )


def records_by_id(records: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """Records keyed by `key`, asserting there is no duplicate."""
    keyed = {r[key]: r for r in records}
    assert len(keyed) == len(records), f"duplicate {key} values"
    return keyed
