"""Three sharded Meltano jobs at once, one app budget: the README's sharding guide, end to end.

meltano.yml's `tap-tiktok--shard-1` to `-3` (`inherit_from: tap-tiktok`) each get two of six
advertisers, run together with `--state-id-suffix` into one PostgreSQL schema, and share one
request budget of 10 a second kept in PostgreSQL (`rate_limit_store`) against a fake app allowed
10 QPS. Gated like tests/test_meltano_e2e.py: skips without PostgreSQL, except in CI.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import uuid
from typing import Any

from tests.fake_api import DatasetSpec, FakeMarketingAPI
from tests.test_meltano_e2e import (
    POSTGRES_URL,
    REPO,
    MeltanoProject,
    e2e_database_connection,
    postgres_or_skip,
    query,
)

SHARDS = ("tap-tiktok--shard-1", "tap-tiktok--shard-2", "tap-tiktok--shard-3")
STREAMS = ("advertisers", "campaigns", "ads", "campaign_report_daily")
START, END = datetime.date(2025, 5, 1), datetime.date(2025, 5, 20)  # the demo environment's
SPEC = DatasetSpec(
    seed=33, advertisers=6, campaigns_per_advertiser=2, adgroups_per_campaign=1, ads_per_adgroup=2
)
QPS = 10


def variable_prefix(plugin: str) -> str:
    """Meltano's environment variable prefix for a plugin's settings, e.g. TAP_TIKTOK__SHARD_1."""
    return plugin.upper().replace("-", "_")


def start_shard(project: MeltanoProject, shard: str, advertiser_ids: list[str], suffix: str):
    prefix = variable_prefix(shard)
    env = {
        **project.env,
        f"{prefix}_ADVERTISER_IDS": json.dumps(advertiser_ids),
        f"{prefix}__SELECT": json.dumps([f"{stream}.*" for stream in STREAMS]),
    }
    command = [project.meltano, "--environment", "demo", "run", "--state-id-suffix", suffix]
    return subprocess.Popen(
        [*command, shard, "target-postgres"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def shard_state(project: MeltanoProject, shard: str, suffix: str) -> dict[str, Any]:
    listed = project.run("--environment", "demo", "state", "list").stdout.split()
    [state_id] = [s for s in listed if s.startswith(f"demo:{shard}-to-") and s.endswith(suffix)]
    return json.loads(project.run("state", "get", state_id).stdout)


def test_three_shards_at_once_share_the_apps_budget_and_keep_their_own_state(tmp_path):
    server = postgres_or_skip()
    connection = e2e_database_connection(server)
    schema = f"tiktok_shards_{uuid.uuid4().hex[:8]}"
    marker = uuid.uuid4().hex[:12]  # finds the budget's table afterwards
    budget = f"shards-{marker}"
    run_id = uuid.uuid4().hex[:8]
    with FakeMarketingAPI(SPEC, qps_limit=QPS) as api:
        project = MeltanoProject(api, schema, tmp_path / "meltano.db")
        project.env["TAP_TIKTOK_RATE_LIMIT_STORE"] = POSTGRES_URL
        project.env["TAP_TIKTOK_RATE_LIMIT_KEY"] = budget
        project.env["TAP_TIKTOK_PAGE_SIZE"] = "3"  # more, smaller requests
        project.run("install")
        ids = [a["advertiser_id"] for a in api.data.advertisers]
        shares = {shard: ids[n::3] for n, shard in enumerate(SHARDS)}
        suffixes = {shard: f"{shard.rsplit('-', 1)[1]}-{run_id}" for shard in SHARDS}
        try:
            jobs = {
                shard: start_shard(project, shard, shares[shard], suffixes[shard])
                for shard in SHARDS
            }
            for shard, job in jobs.items():
                _, stderr = job.communicate(timeout=900)
                assert job.returncode == 0, f"{shard} failed:\n{stderr[-4000:]}"

            # The three jobs together stayed within the app's limit, while they overlapped.
            assert api.count() >= 60
            assert [r for r in api.requests if r.code == 40100] == []
            assert api.peak_qps <= QPS
            periods = [busy_period(api, shares[shard]) for shard in SHARDS]
            assert any(
                a[0] < b[1] and b[0] < a[1] for i, a in enumerate(periods) for b in periods[i + 1 :]
            ), periods

            # Each shard's state holds its own advertisers' bookmarks, and only theirs.
            for shard in SHARDS:
                bookmarks = shard_state(project, shard, suffixes[shard])["singer_state"]
                for stream in ("campaigns", "ads", "campaign_report_daily"):
                    partitions = bookmarks["bookmarks"][stream]["partitions"]
                    got = {p["context"]["advertiser_id"] for p in partitions}
                    assert got == set(shares[shard]), (shard, stream)

            # The tables hold every advertiser, and each row, exactly once.
            table = f'"{schema}"'
            advertisers = query(connection, f"select advertiser_id from {table}.advertisers")
            assert sorted(a for (a,) in advertisers) == sorted(ids)
            campaigns = query(connection, f"select campaign_id from {table}.campaigns")
            assert sorted(c for (c,) in campaigns) == sorted(
                c["campaign_id"] for c in api.data.campaigns
            )
            ads = query(connection, f"select count(*), count(distinct ad_id) from {table}.ads")
            assert ads == [(len(api.data.ads), len(api.data.ads))]
            report = query(
                connection,
                f"select advertiser_id, campaign_id, stat_time_day, count(*) "
                f"from {table}.campaign_report_daily group by 1, 2, 3",
            )
            assert {row[3] for row in report} == {1}
            expected = {
                (advertiser_id, row["dimensions"]["campaign_id"], day_of(row))
                for advertiser_id in ids
                for row in campaign_rows(api, advertiser_id)
            }
            assert {row[:3] for row in report} == expected
        finally:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            connection.close()
            # The budget's table, in the store's database.
            tables = server.execute(
                "select table_name from information_schema.tables where table_name like %s",
                (f"%{marker}%",),
            ).fetchall()
            for (name,) in tables:
                server.execute(f'DROP TABLE IF EXISTS "{name}"')
            server.close()


def busy_period(api, advertiser_ids: list[str]) -> tuple[float, float]:
    """When the fake answered the first and the last request about these advertisers."""
    times = []
    for request in api.requests:
        asked = request.params.get("advertiser_ids") or [request.params.get("advertiser_id")]
        if set(asked) & set(advertiser_ids):
            times.append(request.at)
    return min(times), max(times)


def day_of(row: dict) -> datetime.date:
    return datetime.date.fromisoformat(row["dimensions"]["stat_time_day"][:10])


def campaign_rows(api, advertiser_id: str) -> list[dict]:
    return api.complete_report_rows(
        advertiser_id,
        report_type="BASIC",
        data_level="AUCTION_CAMPAIGN",
        dimensions=["campaign_id", "stat_time_day"],
        metrics=["spend"],
        start_date=START,
        end_date=END,
        filtering=[
            {"field_name": "campaign_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
        ],
    )
