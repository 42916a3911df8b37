"""`meltano run tap-tiktok target-postgres` end to end: the fake API in, real PostgreSQL out.

Runs the project's own meltano.yml (environment `demo`) with Meltano installed from the package
registry. The loader is pointed at a database of its own (not `postgres`) through the
TARGET_POSTGRES_HOST, _PORT, _USER, _PASSWORD and _DATABASE variables, as a user would. Skips,
saying why, when PostgreSQL is not reachable on 127.0.0.1:5432 — except where
TAP_TIKTOK_E2E_REQUIRED is set (CI), where that is a failure.
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import shutil
import subprocess
import sys
import uuid
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

from tests.fake_api import DatasetSpec, FakeMarketingAPI

REPO = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "TAP_TIKTOK_E2E_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
E2E_DATABASE = "tap_tiktok_e2e"  # not the server's default database, to see the setting work
START, END = datetime.date(2025, 5, 1), datetime.date(2025, 5, 20)  # the demo environment's range
STATE_ID = "demo:tap-tiktok-to-target-postgres"

psycopg = pytest.importorskip("psycopg")
conninfo = pytest.importorskip("psycopg.conninfo")


def postgres_or_skip() -> Any:
    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}".strip()
        if os.environ.get("TAP_TIKTOK_E2E_REQUIRED"):
            pytest.fail(reason)
        print(f"SKIP: {reason}", file=sys.stderr)
        pytest.skip(reason)


def e2e_database_connection(server: Any) -> Any:
    """A connection to E2E_DATABASE, created on the server if missing."""
    exists = server.execute("select 1 from pg_database where datname = %s", (E2E_DATABASE,))
    if exists.fetchone() is None:
        server.execute(f'CREATE DATABASE "{E2E_DATABASE}"')
    return psycopg.connect(POSTGRES_URL, dbname=E2E_DATABASE, autocommit=True, connect_timeout=3)


def loader_environment() -> dict[str, str]:
    """TARGET_POSTGRES_* variables for the server of POSTGRES_URL and the database E2E_DATABASE."""
    parts = conninfo.conninfo_to_dict(POSTGRES_URL)
    variables = {
        "TARGET_POSTGRES_HOST": str(parts.get("host", "127.0.0.1")),
        "TARGET_POSTGRES_PORT": str(parts.get("port", 5432)),
        "TARGET_POSTGRES_USER": str(parts.get("user", "postgres")),
        "TARGET_POSTGRES_DATABASE": E2E_DATABASE,
    }
    # Without one, meltano.yml's empty default must do (the loader insists on a password).
    if parts.get("password"):
        variables["TARGET_POSTGRES_PASSWORD"] = str(parts["password"])
    return variables


def meltano_executable() -> str:
    """Meltano from MELTANO_BIN or PATH, else installed once into .venv-meltano."""
    if found := os.environ.get("MELTANO_BIN") or shutil.which("meltano"):
        return found
    venv = REPO / ".venv-meltano"
    executable = venv / "bin" / "meltano"
    if not executable.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "meltano>=4,<5"],
            check=True,
        )
    return str(executable)


class MeltanoProject:
    """This repository's meltano.yml, pointed at the fake API and an isolated schema and state."""

    def __init__(self, api: FakeMarketingAPI, schema: str, system_db: Path) -> None:
        self.meltano = meltano_executable()
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("TAP_TIKTOK_", "TARGET_POSTGRES_", "MELTANO_"))
            },
            "MELTANO_DATABASE_URI": f"sqlite:///{system_db}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TAP_TIKTOK_API_BASE_URL": api.base_url,
            "TAP_TIKTOK_ACCESS_TOKEN": api.access_token,
            "TAP_TIKTOK_APP_ID": api.app_id,
            "TAP_TIKTOK_SECRET": api.secret,
            **loader_environment(),
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.meltano, *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert result.returncode == 0, f"meltano {' '.join(args)} failed:\n{result.stderr[-4000:]}"
        return result


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    server = postgres_or_skip()
    connection = e2e_database_connection(server)
    spec = DatasetSpec(
        seed=21,
        advertisers=2,
        campaigns_per_advertiser=3,
        adgroups_per_campaign=2,
        ads_per_adgroup=2,
    )
    schema = f"tiktok_e2e_{uuid.uuid4().hex[:8]}"
    with FakeMarketingAPI(spec, qps_limit=None) as api:
        project = MeltanoProject(api, schema, tmp_path_factory.mktemp("meltano") / "meltano.db")
        project.run("install")
        project.run("--environment", "demo", "run", "tap-tiktok", "target-postgres")
        try:
            yield api, project, connection, schema, server
        finally:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            connection.close()
            server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # in case it went there
            server.close()


def query(connection, sql: str, *params: Any) -> list[tuple]:
    return connection.execute(sql, params).fetchall()


def selected_streams() -> set[str]:
    text = (REPO / "meltano.yml").read_text()
    block = text.split("select:", 1)[1].split("loaders:", 1)[0]
    return {
        line.strip()[2:-2]
        for line in block.splitlines()
        if line.strip().startswith("- ") and line.strip().endswith(".*")
    }


def truth(
    api, advertiser_id: str, level: str, dimensions: list[str], metrics: list[str]
) -> list[dict]:
    status = {"AUCTION_CAMPAIGN": "campaign_status", "AUCTION_AD": "ad_status"}[level]
    filtering = [{"field_name": status, "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}]
    return api.complete_report_rows(
        advertiser_id,
        report_type="BASIC",
        data_level=level,
        dimensions=dimensions,
        metrics=metrics,
        start_date=START,
        end_date=END,
        filtering=filtering,
    )


def campaign_daily_truth(api, metric: str) -> dict[tuple[str, str, datetime.date], str]:
    """The fake's campaign-level daily values of one metric over the demo range, by row key."""
    values = {}
    for advertiser in api.data.advertisers:
        dimensions = ["campaign_id", "stat_time_day"]
        for row in truth(
            api, advertiser["advertiser_id"], "AUCTION_CAMPAIGN", dimensions, [metric]
        ):
            day = datetime.date.fromisoformat(row["dimensions"]["stat_time_day"][:10])
            key = (advertiser["advertiser_id"], row["dimensions"]["campaign_id"], day)
            values[key] = row["metrics"][metric]
    return values


def test_the_data_lands_in_the_database_the_environment_variables_name(e2e):
    api, project, connection, schema, server = e2e
    assert connection.info.dbname == E2E_DATABASE
    loaded = query(connection, f'select count(*) from "{schema}".campaigns')[0][0]
    assert loaded == len(api.data.campaigns)
    # Not (also) in the server's default database, where a committed URL used to send it.
    assert server.info.dbname != E2E_DATABASE
    elsewhere = query(
        server, "select count(*) from information_schema.schemata where schema_name = %s", schema
    )
    assert elsewhere == [(0,)]
    listed = project.run("--environment", "demo", "config", "list", "target-postgres").stdout
    assert f"database [env: TARGET_POSTGRES_DATABASE] current value: '{E2E_DATABASE}'" in listed
    assert "sqlalchemy_url" not in listed.split("Optional settings")[0]


def test_one_table_per_selected_stream(e2e):
    _, _, connection, schema, _ = e2e
    tables = {
        r[0]
        for r in query(
            connection,
            "select table_name from information_schema.tables where table_schema = %s",
            schema,
        )
    }
    assert tables == selected_streams()


def test_entity_tables_equal_the_fake_data(e2e):
    api, _, connection, schema, _ = e2e
    rows = dict(query(connection, f'select campaign_id, campaign_name from "{schema}".campaigns'))
    assert rows == {c["campaign_id"]: c["campaign_name"] for c in api.data.campaigns}
    budgets = dict(query(connection, f'select campaign_id, budget from "{schema}".campaigns'))
    assert all(
        budgets[c["campaign_id"]] == decimal.Decimal(str(c["budget"])) for c in api.data.campaigns
    )
    assert query(connection, f'select count(*) from "{schema}".ads')[0][0] == len(api.data.ads)
    assert query(connection, f'select count(*) from "{schema}".advertisers')[0][0] == len(
        api.data.advertisers
    )


def test_report_tables_equal_the_fake_truth_with_the_right_types(e2e):
    api, _, connection, schema, _ = e2e
    loaded = {
        (a, c, d): (s, i)
        for a, c, d, s, i in query(
            connection,
            f'select advertiser_id, campaign_id, stat_time_day, spend, impressions from "{schema}".campaign_report_daily',
        )
    }
    spend, impressions = (
        campaign_daily_truth(api, "spend"),
        campaign_daily_truth(api, "impressions"),
    )
    expected = {key: (decimal.Decimal(spend[key]), int(impressions[key])) for key in spend}
    assert loaded == expected

    types = dict(
        query(
            connection,
            "select column_name, data_type from information_schema.columns where table_schema = %s and table_name = 'campaign_report_daily'",
            schema,
        )
    )
    assert types["spend"] == "numeric"
    assert types["impressions"] == "bigint"
    assert types["stat_time_day"] == "date"
    assert types["advertiser_id"] == "text" and types["campaign_id"] == "text"
    hour_type = query(
        connection,
        "select data_type from information_schema.columns where table_schema = %s and table_name = 'ad_report_hourly' and column_name = 'stat_time_hour'",
        schema,
    )[0][0]
    assert hour_type.startswith("timestamp")


def test_hourly_rows_are_stored_at_the_right_instant(e2e):
    api, _, connection, schema, _ = e2e
    advertiser = api.data.advertisers[0]
    zone = zoneinfo.ZoneInfo(advertiser["display_timezone"])
    rows = [
        r
        for day in range((END - START).days + 1)
        for r in api.complete_report_rows(
            advertiser["advertiser_id"],
            report_type="BASIC",
            data_level="AUCTION_AD",
            dimensions=["ad_id", "stat_time_hour"],
            metrics=["spend"],
            start_date=START + datetime.timedelta(days=day),
            end_date=START + datetime.timedelta(days=day),
            filtering=[
                {"field_name": "ad_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
            ],
        )
    ]
    ad_id = rows[0]["dimensions"]["ad_id"]
    # MeltanoLabs target-postgres keeps date-time values as UTC in `timestamp` columns.
    expected = {
        datetime.datetime.strptime(r["dimensions"]["stat_time_hour"], "%Y-%m-%d %H:%M:%S")
        .replace(tzinfo=zone)
        .astimezone(datetime.timezone.utc)
        .replace(tzinfo=None)
        for r in rows
        if r["dimensions"]["ad_id"] == ad_id
    }
    stored = {
        r[0]
        for r in query(
            connection,
            f'select stat_time_hour from "{schema}".ad_report_hourly where ad_id = %s',
            ad_id,
        )
    }
    assert stored == expected


def test_second_run_with_a_restated_day_updates_rows_without_duplicates(e2e):
    api, project, connection, schema, _ = e2e
    table = f'"{schema}".campaign_report_daily'
    count_before = query(connection, f"select count(*) from {table}")[0][0]
    restated = END - datetime.timedelta(days=1)  # within the demo's 3-day lookback
    api.restate([restated], extra_conversions=9)

    project.run("--environment", "demo", "run", "tap-tiktok", "target-postgres")

    assert query(connection, f"select count(*) from {table}")[0][0] == count_before
    duplicates = query(
        connection,
        f"select advertiser_id, campaign_id, stat_time_day, count(*) from {table} group by 1, 2, 3 having count(*) > 1",
    )
    assert duplicates == []
    loaded = {
        (a, c, d): v
        for a, c, d, v in query(
            connection,
            f"select advertiser_id, campaign_id, stat_time_day, conversion from {table} where stat_time_day = %s",
            restated,
        )
    }
    expected = {
        k: int(v) for k, v in campaign_daily_truth(api, "conversion").items() if k[2] == restated
    }
    assert expected and loaded == expected


def test_meltano_keeps_a_bookmark_per_advertiser(e2e):
    api, project, _, _, _ = e2e
    state = json.loads(project.run("state", "get", STATE_ID).stdout)
    for stream in ("campaign_report_daily", "ads"):
        partitions = state["singer_state"]["bookmarks"][stream]["partitions"]
        assert {p["context"]["advertiser_id"] for p in partitions} == {
            a["advertiser_id"] for a in api.data.advertisers
        }
    report_marks = {
        p["replication_key_value"]
        for p in state["singer_state"]["bookmarks"]["campaign_report_daily"]["partitions"]
    }
    assert report_marks == {END.isoformat()}


def test_the_embedded_duckdb_target_loads_our_types(e2e, tmp_path):
    api, project, _, _, _ = e2e
    database = tmp_path / "e2e.duckdb"  # not tiktok.duckdb: its catalog would clash with the schema
    project.env["TARGET_DUCKDB_FILEPATH"] = str(database)
    project.env["MELTANO_RUN_STATE_ID_SUFFIX"] = "duckdb-check"
    try:
        project.run("--environment", "demo", "run", "tap-tiktok", "target-duckdb")
    finally:
        del project.env["TARGET_DUCKDB_FILEPATH"], project.env["MELTANO_RUN_STATE_ID_SUFFIX"]
    # DuckDB is read with the loader's own interpreter, where Meltano installed it.
    script = (
        "import duckdb, json, sys; c = duckdb.connect(sys.argv[1], read_only=True); print(json.dumps({"
        "'types': dict(c.sql(\"select column_name, data_type from information_schema.columns "
        "where table_name = 'campaign_report_daily'\").fetchall()),"
        "'campaigns': c.sql('select count(*) from tiktok.campaigns').fetchone()[0],"
        "'report_rows': c.sql('select count(*) from tiktok.campaign_report_daily').fetchone()[0],"
        "'hour_type': c.sql(\"select data_type from information_schema.columns where table_name = 'ad_report_hourly' and column_name = 'stat_time_hour'\").fetchone()[0]}))"
    )
    python = REPO / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
    loaded = json.loads(
        subprocess.run(
            [str(python), "-c", script, str(database)], capture_output=True, text=True, check=True
        ).stdout
    )
    assert loaded["campaigns"] == len(api.data.campaigns)
    expected_rows = len(campaign_daily_truth(api, "spend"))
    assert loaded["report_rows"] == expected_rows
    assert loaded["types"]["spend"] == "DOUBLE"
    assert loaded["types"]["impressions"] in ("BIGINT", "HUGEINT")
    assert loaded["types"]["advertiser_id"] == "VARCHAR"
    assert loaded["hour_type"].startswith("TIMESTAMP")


def test_meltano_config_set_takes_a_fractional_request_budget(tmp_path):
    """Shards split an app's QPS, e.g. 2.5 requests per second each (on a copy of the project)."""
    shutil.copy(REPO / "meltano.yml", tmp_path / "meltano.yml")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TAP_TIKTOK_", "MELTANO_"))},
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }

    def meltano(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [meltano_executable(), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    result = meltano("config", "set", "tap-tiktok", "max_requests_per_second", "2.5")
    assert result.returncode == 0, result.stderr[-3000:]
    printed = meltano("--environment", "prod", "config", "print", "tap-tiktok")
    assert printed.returncode == 0, printed.stderr[-3000:]
    assert json.loads(printed.stdout)["max_requests_per_second"] == 2.5
