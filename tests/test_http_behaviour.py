"""The client path under TikTok's failures: retries, permanent errors, tokens, rate limits, secrets."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import (
    ENTITY_STREAMS,
    catalog_selecting,
    records_by_id,
    run_cli,
    run_sync,
    tap_config,
)
from tests.fake_api import Fault

TRANSIENT_FAULTS = [
    pytest.param(Fault(kind="http", status=500, times=2), id="http-500"),
    pytest.param(Fault(kind="http", status=502), id="http-502"),
    pytest.param(Fault(kind="http", status=503), id="http-503"),
    pytest.param(Fault(kind="http", status=429), id="http-429"),
    pytest.param(Fault(kind="code", code=50000, times=2), id="code-50000"),
    pytest.param(Fault(kind="code", code=50002), id="code-50002"),
    pytest.param(Fault(kind="code", code=40100, times=3), id="code-40100"),
    pytest.param(Fault(kind="code", code=40133), id="code-40133"),
    pytest.param(Fault(kind="code", code=40016), id="code-40016"),
    pytest.param(Fault(kind="code", code=40202), id="code-40202"),
    pytest.param(Fault(kind="code", code=51010), id="code-51010"),
    pytest.param(Fault(kind="code", code=60001), id="code-60001"),
    pytest.param(Fault(kind="slow", delay=2.5), id="timeout"),
    pytest.param(Fault(kind="drop", times=2), id="dropped-connection"),
    pytest.param(Fault(kind="truncated"), id="truncated-json"),
    pytest.param(Fault(kind="short_body"), id="short-body"),
]


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS)
def test_transient_faults_are_retried_with_nothing_lost_or_duplicated(api, fault):
    fault = dataclasses.replace(fault, path="campaign/get/")
    expected_faults = fault.times
    config = tap_config(api, page_size=3, request_timeout=1)
    api.inject(fault)

    out = run_sync(config, streams=["campaigns"])

    assert api.count("campaign/get/") > 0
    got = records_by_id(out.records["campaigns"], "campaign_id")
    assert set(got) == {c["campaign_id"] for c in api.data.campaigns}
    assert "Retrying in" in out.log
    if fault.kind == "slow":
        assert "network failure (ReadTimeout)" in out.log
    else:
        assert len([r for r in api.requests if r.fault]) == expected_faults


def test_retries_give_up_after_the_time_budget(api, tmp_path):
    api.inject(Fault(kind="code", code=50000, times=1000, path="campaign/get/"))
    config = tap_config(api, max_retry_seconds=2)
    catalog = catalog_selecting(config, ["campaigns"])

    result = run_cli(tmp_path, config, catalog=catalog)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    line = [ln for ln in result.stderr.splitlines() if "gave up after retrying" in ln]
    assert len(line) == 1
    assert "campaign/get/" in line[0] and "code 50000" in line[0] and "request_id" in line[0]


PERMANENT = [
    (40105, "the access token is invalid or revoked: create a new one"),
    (40001, "no permission"),
    (40002, "TikTok rejected a parameter"),
    (40101, "app_id and secret do not match"),
    (40300, "the advertiser does not exist"),
]


@pytest.mark.parametrize(("code", "hint"), PERMANENT)
def test_permanent_errors_stop_with_one_clear_line(api, tmp_path, code, hint):
    api.inject(Fault(kind="code", code=code, path="adgroup/get/", message=f"Fake message {code}"))
    config = tap_config(api)
    catalog = catalog_selecting(config, ["ad_groups"])

    result = run_cli(tmp_path, config, catalog=catalog)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [ln for ln in result.stderr.splitlines() if "TikTok API error" in ln]
    assert len(errors) == 1, result.stderr
    line = errors[0]
    advertiser_id = api.data.advertisers[0]["advertiser_id"]
    for part in (
        "adgroup/get/",
        f"advertiser {advertiser_id}",
        f"code {code}",
        f"Fake message {code}",
        "request_id",
        hint,
    ):
        assert part in line
    assert api.count("adgroup/get/") == 1  # not retried
    assert '"type":"RECORD"' not in result.stdout.replace(" ", "")  # never an empty page


def test_real_invalid_token_is_reported(api, tmp_path):
    config = tap_config(api, access_token="not-a-token")
    result = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["campaigns"]))
    assert result.returncode == 1
    assert "code 40105" in result.stderr and "create a new one" in result.stderr
    assert "not-a-token" not in result.stderr + result.stdout


def test_refresh_token_gets_a_token_at_start(api):
    config = tap_config(api, access_token=None, refresh_token=api.refresh_token)
    out = run_sync(config, streams=["campaigns"])
    assert len(out.records["campaigns"]) == len(api.data.campaigns)
    assert api.count("oauth2/refresh_token/") == 1


def test_expired_token_is_refreshed_and_the_request_retried_once(api):
    config = tap_config(api, refresh_token=api.refresh_token)
    api.inject(Fault(kind="code", code=40102, path="ad/get/"))
    out = run_sync(config, streams=["ads"])
    assert len(out.records["ads"]) == len(api.data.ads)
    assert api.count("oauth2/refresh_token/") == 2  # at start, then on 40102


def test_token_expiring_again_right_after_refresh_stops(api, tmp_path):
    config = tap_config(api, refresh_token=api.refresh_token)
    api.inject(Fault(kind="code", code=40102, times=5, path="ad/get/"))
    result = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["ads"]))
    assert result.returncode == 1
    assert "code 40102" in result.stderr and "refresh_token" in result.stderr
    assert api.count("oauth2/refresh_token/") == 2


def test_expired_token_without_refresh_token_says_what_to_do(api, tmp_path):
    api.expire_access_token()
    config = tap_config(api)
    result = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["campaigns"]))
    assert result.returncode == 1
    assert "code 40102" in result.stderr and "set refresh_token" in result.stderr


def test_client_side_rate_limit_keeps_under_the_apps_qps(api):
    api.qps_limit = 10
    config = tap_config(api, page_size=1, max_requests_per_second=10)
    out = run_sync(config, streams=["ads"])
    assert len(out.records["ads"]) == len(api.data.ads)
    assert api.count() > 30
    assert api.peak_qps <= 10
    assert not [r for r in api.requests if r.code == 40100]


def test_advertisers_are_discovered_when_not_listed(api):
    config = tap_config(api, advertiser_ids=None)
    out = run_sync(config, streams=["advertisers", "campaigns"])
    assert {r["advertiser_id"] for r in out.records["advertisers"]} == set(
        api.data.authorized_advertiser_ids
    )
    assert len(out.records["campaigns"]) == len(api.data.campaigns)
    assert api.count("oauth2/advertiser/get/") == 1
    discovery = next(r for r in api.requests if r.path == "oauth2/advertiser/get/")
    assert discovery.params["app_id"] == api.app_id


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"app_id": None}, "set app_id"),
        ({"secret": None, "app_id": None}, "set app_id and secret"),
        ({"sandbox": True, "api_base_url": None}, "sandbox cannot list advertisers"),
    ],
)
def test_discovery_without_what_it_needs_is_refused(api, tmp_path, overrides, expected):
    config = tap_config(api, advertiser_ids=None, **overrides)
    if overrides.get("sandbox"):
        config.pop("api_base_url", None)
    result = run_cli(tmp_path, config, catalog=catalog_selecting(tap_config(api), ["campaigns"]))
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert api.count() == 0


def test_missing_credentials_are_refused_before_any_request(api, tmp_path):
    config = tap_config(api, access_token=None)
    result = run_cli(tmp_path, config, catalog=catalog_selecting(tap_config(api), ["campaigns"]))
    assert result.returncode == 1
    assert "Set access_token, or refresh_token together with app_id and secret" in result.stderr
    assert api.count() == 0


def test_discover_makes_no_request(api, tmp_path):
    config = tap_config(api, advertiser_ids=None)
    result = run_cli(tmp_path, config, "--discover")
    assert result.returncode == 0, result.stderr
    assert '"tap_stream_id"' in result.stdout
    assert api.count() == 0


def test_secrets_never_reach_output(api, tmp_path):
    # Discovery sends the app secret in the query; a network failure there must not print the URL.
    config = tap_config(
        api, advertiser_ids=None, refresh_token=api.refresh_token, max_retry_seconds=1
    )
    api.inject(Fault(kind="drop", times=100, path="oauth2/advertiser/get/"))
    failed = run_cli(
        tmp_path, config, catalog=catalog_selecting(tap_config(api), list(ENTITY_STREAMS))
    )
    assert failed.returncode == 1
    api.clear_faults()
    api.inject(Fault(kind="code", code=50000, path="campaign/get/"))
    ok = run_cli(tmp_path, config, catalog=catalog_selecting(tap_config(api), list(ENTITY_STREAMS)))
    assert ok.returncode == 0, ok.stderr

    secrets = {config["access_token"], config["secret"], config["refresh_token"], api.access_token}
    for output in (failed.stdout, failed.stderr, ok.stdout, ok.stderr):
        for secret in secrets:
            assert secret not in output
