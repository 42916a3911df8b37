"""One request budget shared by several `tap-tiktok` processes, kept in real PostgreSQL or Redis.

The servers are the machine's own: PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and Redis
on 127.0.0.1:6379 (`TAP_TIKTOK_E2E_POSTGRES`, `TAP_TIKTOK_E2E_REDIS` override them). Without
them these tests skip and say why, except where TAP_TIKTOK_E2E_REQUIRED is set (CI), where that
is a failure. Every test names its own budget (a fresh key or app id), so runs never share one.
"""

from __future__ import annotations

import decimal
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tap_tiktok_reporting.api.shared_rate_limit import open_shared_limiter
from tests.conftest import TAP_EXECUTABLE, catalog_selecting, run_cli, tap_config
from tests.fake_api import DatasetSpec, FakeMarketingAPI, Fault
from tests.test_bad_input import assert_refused_in_one_line
from tests.test_entities import assert_records_match

POSTGRES_URL = os.environ.get(
    "TAP_TIKTOK_E2E_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TAP_TIKTOK_E2E_REDIS", "redis://127.0.0.1:6379/0")
STORES = {"postgres": POSTGRES_URL, "redis": REDIS_URL}
QPS = 10
STREAMS = ["campaigns", "ad_groups", "ads"]
# Six advertisers, so three processes get two each; small pages make many small requests.
SPEC = DatasetSpec(
    seed=5, advertisers=6, campaigns_per_advertiser=2, adgroups_per_campaign=1, ads_per_adgroup=3
)

psycopg = pytest.importorskip("psycopg")
redis = pytest.importorskip("redis")


def reachable_or_skip(kind: str) -> str:
    """The store's URL once its server answers; skip (or fail in CI) when it does not."""
    url = STORES[kind]
    try:
        if kind == "postgres":
            psycopg.connect(url, connect_timeout=3).close()
        else:
            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except (psycopg.Error, redis.RedisError) as exc:
        reason = f"{kind} is not reachable at {url}: {exc}".strip()
        if os.environ.get("TAP_TIKTOK_E2E_REQUIRED"):
            pytest.fail(reason)
        pytest.skip(reason)
    return url


def with_password(url: str, password: str) -> str:
    """`url` with `password` in its user part (trust auth and Redis' default user ignore it)."""
    scheme, rest = url.split("://", 1)
    user = "postgres" if scheme.startswith("postgres") else ""
    if "@" in rest:
        user, rest = rest.split("@", 1)
        user = user.split(":", 1)[0]
    return f"{scheme}://{user}:{password}@{rest}"


def fresh_key(label: str) -> tuple[str, str]:
    """A budget key no other test or run uses, and the unique part that finds what it left."""
    marker = uuid.uuid4().hex[:12]
    return f"{label}-{marker}", marker


def drop_budget(kind: str, url: str, marker: str) -> None:
    """Remove what a test's budget left in the store: tables or keys whose name holds `marker`."""
    if kind == "postgres":
        with psycopg.connect(url, autocommit=True) as connection:
            tables = connection.execute(
                "select table_name from information_schema.tables where table_name like %s",
                (f"%{marker}%",),
            ).fetchall()
            for (table,) in tables:
                connection.execute(f'DROP TABLE IF EXISTS "{table}"')
    else:
        client = redis.Redis.from_url(url)
        for name in client.scan_iter(match=f"*{marker}*"):
            client.delete(name)


def closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_tap(directory: Path, config: dict[str, Any], catalog: dict[str, Any], env=None):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config))
    (directory / "catalog.json").write_text(json.dumps(catalog))
    command = [TAP_EXECUTABLE, "--config", str(directory / "config.json")]
    command += ["--catalog", str(directory / "catalog.json")]
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_")}
    run_env.update(env or {})
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=run_env
    )


def finish(process: subprocess.Popen, timeout: float = 120) -> tuple[list[dict], str]:
    stdout, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, stderr[-3000:]
    lines = [line for line in stdout.splitlines() if line.strip()]
    return [json.loads(line, parse_float=decimal.Decimal) for line in lines], stderr


def records(messages: list[dict], stream: str) -> list[dict]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def busiest_second(stamps: list[float]) -> int:
    """Most stamps within any 1-second window."""
    stamps = sorted(stamps)
    return max(sum(1 for s in stamps[i:] if s < start + 1.0) for i, start in enumerate(stamps))


@pytest.fixture
def fresh_app_id() -> str:
    """A 19-digit app id no other test (or concurrent run) uses: the default budget key."""
    return str(random.randrange(7 * 10**18, 8 * 10**18))


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_three_processes_share_one_budget_at_the_apps_limit(kind, tmp_path):
    url = reachable_or_skip(kind)
    key, marker = fresh_key("shards")
    with FakeMarketingAPI(SPEC, qps_limit=QPS) as api:
        ids = [a["advertiser_id"] for a in api.data.advertisers]
        base = tap_config(
            api,
            max_requests_per_second=QPS,
            max_requests_in_flight=10,
            page_size=2,
            rate_limit_store=url,
            rate_limit_key=key,
        )
        catalog = catalog_selecting(base, STREAMS)
        try:
            shards = [
                start_tap(tmp_path / f"shard{n}", {**base, "advertiser_ids": ids[n::3]}, catalog)
                for n in range(3)
            ]
            outputs = [finish(shard)[0] for shard in shards]
        finally:
            drop_budget(kind, url, marker)
        log = api.requests

    # TikTok never refused a request, and its own count of arrivals never went over the app's
    # limit in any second; the arrival log agrees.
    assert [r for r in log if r.code == 40100] == []
    assert api.peak_qps <= QPS
    assert busiest_second([r.at for r in log]) <= QPS
    # Every advertiser's objects, each exactly once, from the shard that had the advertiser.
    for stream, key_name, truth in (
        ("campaigns", "campaign_id", api.data.campaigns),
        ("ad_groups", "adgroup_id", api.data.ad_groups),
        ("ads", "ad_id", api.data.ads),
    ):
        assert_records_match([r for out in outputs for r in records(out, stream)], truth, key_name)
        for n, out in enumerate(outputs):
            assert {r["advertiser_id"] for r in records(out, stream)} == set(ids[n::3])
    # ...and the budget was used: at least 80 % of 10 a second while requests were going out.
    stamps = sorted(r.at for r in log)
    busy = stamps[-1] - stamps[0]
    assert len(stamps) >= 40
    assert (len(stamps) - 1) / busy / QPS >= 0.8, f"{len(stamps)} requests in {busy:.1f} s"


# ----- refusals at start: one line, exit 1, no request -----


def entity_catalog(api) -> dict:
    return catalog_selecting(tap_config(api), ["campaigns"])


@pytest.mark.parametrize(
    ("store", "parts"),
    [
        pytest.param(
            "postgresql://postgres@127.0.0.1:{port}/postgres",
            ["rate_limit_store postgresql://postgres@127.0.0.1:", "PostgreSQL server is up"],
            id="postgres",
        ),
        pytest.param(
            "postgres://postgres@127.0.0.1:{port}/postgres",
            ["rate_limit_store postgres://postgres@127.0.0.1:", "PostgreSQL server is up"],
            id="postgres-short-scheme",
        ),
        pytest.param(
            "redis://127.0.0.1:{port}/0",
            ["rate_limit_store redis://127.0.0.1:", "Redis server is up"],
            id="redis",
        ),
    ],
)
def test_an_unreachable_store_stops_the_sync_before_any_request(api, tmp_path, store, parts):
    config = tap_config(api, rate_limit_store=store.format(port=closed_port()))
    result = run_cli(tmp_path, config, catalog=entity_catalog(api))
    line = assert_refused_in_one_line(result, api, *parts, "cannot hold the request budget")
    assert "refused" in line.lower()  # the driver's reason, e.g. "Connection refused"


def test_a_store_url_of_another_kind_is_refused_naming_both_kinds(api, tmp_path):
    config = tap_config(api, rate_limit_store="mysql://app:pw-123456@db.example.com/budget")
    result = run_cli(tmp_path, config, catalog=entity_catalog(api))
    line = assert_refused_in_one_line(
        result, api, "rate_limit_store", "is not a PostgreSQL or Redis URL", "postgresql://"
    )
    assert "pw-123456" not in result.stderr and "app:***@db.example.com" in line


@pytest.mark.parametrize(
    ("kind", "blocked"),
    [("postgres", "psycopg_pool"), ("postgres", "psycopg"), ("redis", "redis")],
)
def test_a_missing_extra_names_the_pip_command(api, tmp_path, kind, blocked):
    # The tap runs in a Python where `blocked` cannot be imported, as without the extra.
    launcher = (
        f"import sys; sys.modules[{blocked!r}] = None; "
        "from tap_tiktok_reporting.tap import TapTikTok; TapTikTok.cli()"
    )
    config = tap_config(api, rate_limit_store=STORES[kind])
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(entity_catalog(api)))
    files = ["--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")]
    result = subprocess.run(
        [sys.executable, "-c", launcher, *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_")},
    )
    assert_refused_in_one_line(
        result, api, "rate_limit_store", f"pip install 'tap-tiktok-reporting[{kind}]'", blocked
    )


def test_discovery_needs_no_store(api, tmp_path):
    config = tap_config(api, rate_limit_store=f"redis://127.0.0.1:{closed_port()}/0")
    result = run_cli(tmp_path, config, "--discover")
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["streams"]
    assert api.count() == 0


# ----- secrets -----

PASSWORD = "s3cret-store-pw"


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_the_store_password_is_never_printed(api, tmp_path, kind):
    url = with_password(reachable_or_skip(kind), PASSWORD)
    key, marker = fresh_key("secret")
    debug = {"TAP_TIKTOK_LOGLEVEL": "DEBUG"}
    catalog = entity_catalog(api)
    try:
        config = tap_config(api, rate_limit_store=url, rate_limit_key=key)
        succeeded = run_cli(tmp_path, config, catalog=catalog, env=debug)
    finally:
        drop_budget(kind, STORES[kind], marker)
    assert succeeded.returncode == 0, succeeded.stderr[-2000:]
    assert "| DEBUG " in succeeded.stderr  # DEBUG lines were written: the check means something
    assert ":***@" in succeeded.stderr  # the budget's log line shows the store, masked

    unreachable = url.replace(url.split("@")[1].split("/")[0], f"127.0.0.1:{closed_port()}")
    failed = run_cli(
        tmp_path, tap_config(api, rate_limit_store=unreachable), catalog=catalog, env=debug
    )
    assert failed.returncode == 1
    assert ":***@127.0.0.1:" in failed.stderr
    for result in (succeeded, failed):
        assert PASSWORD not in result.stdout + result.stderr


# ----- the budget's name -----


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_the_default_key_is_the_app_id(kind, tmp_path, fresh_app_id):
    # Two processes over one app at its full limit: one names the app id as key, one names no
    # key. If they shared nothing, together they would send 20 a second to an app allowed 10.
    url = reachable_or_skip(kind).replace("postgresql://", "postgres://")  # the short form too
    spec = DatasetSpec(seed=9, advertisers=4, campaigns_per_advertiser=2, adgroups_per_campaign=1)
    with FakeMarketingAPI(spec, qps_limit=QPS, app_id=fresh_app_id) as api:
        ids = [a["advertiser_id"] for a in api.data.advertisers]
        base = tap_config(api, max_requests_per_second=QPS, page_size=1, rate_limit_store=url)
        catalog = catalog_selecting(base, STREAMS)
        try:
            named = {**base, "advertiser_ids": ids[:2], "rate_limit_key": fresh_app_id}
            default = {**base, "advertiser_ids": ids[2:]}
            shards = [
                start_tap(tmp_path / "named", named, catalog),
                start_tap(tmp_path / "default", default, catalog),
            ]
            for shard in shards:
                finish(shard)
        finally:
            drop_budget(kind, url, fresh_app_id)
        assert api.count() >= 30
        assert [r for r in api.requests if r.code == 40100] == []
        assert api.peak_qps <= QPS


# ----- the limiter itself -----


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_a_pause_holds_this_process_then_spacing_resumes(kind):
    url = reachable_or_skip(kind)
    key, marker = fresh_key("pause")
    limiter = open_shared_limiter(url, key, 20)
    try:
        limiter.acquire()
        paused_at = time.monotonic()
        limiter.pause(0.6)
        starts = []
        for _ in range(4):
            limiter.acquire()
            starts.append(time.monotonic())
    finally:
        limiter.close()
        drop_budget(kind, url, marker)
    assert starts[0] - paused_at >= 0.6
    # 20 a second: three more starts take at least three twentieths of a second, not a burst.
    assert starts[3] - starts[0] >= 3 / 20


def test_test_mode_checks_the_store_too(api, tmp_path):
    config = tap_config(api, rate_limit_store=f"redis://127.0.0.1:{closed_port()}/0")
    result = run_cli(tmp_path, config, "--test")
    assert_refused_in_one_line(result, api, "rate_limit_store", "cannot hold the request budget")


# ----- a store lost during the run -----


def test_a_store_lost_mid_run_stops_the_sync_and_never_goes_on_unshared(api, tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("no redis-server to start a private Redis with")
    port = closed_port()
    redis_process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        api.inject(Fault(kind="slow", delay=0.05, times=10**6))
        config = tap_config(
            api,
            rate_limit_store=f"redis://127.0.0.1:{port}/0",
            max_requests_per_second=20,
            page_size=1,
            max_retry_seconds=2,
        )
        tap = start_tap(tmp_path, config, catalog_selecting(config, STREAMS))
        while api.count() < 10 and tap.poll() is None:
            time.sleep(0.01)
        redis_process.terminate()
        redis_process.wait(timeout=10)
        sent_when_lost = api.count()
        _, stderr = tap.communicate(timeout=60)
    finally:
        redis_process.kill()
    assert tap.returncode == 1
    assert "Traceback" not in stderr
    # The tap's last word (the SDK also names the stream that failed) says what to look at.
    last = [line for line in stderr.splitlines() if "| ERROR" in line][-1]
    assert f"rate_limit_store redis://127.0.0.1:{port}/0 did not answer" in last, stderr[-3000:]
    assert "gave up after retrying" in last
    # Requests already admitted may still arrive; nothing starts without the budget.
    assert api.count() <= sent_when_lost + 10
