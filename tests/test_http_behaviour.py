"""The client path under TikTok's failures: retries, permanent errors, tokens, rate limits, secrets."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import decimal
import json
import math
import socket
import threading
import time

import pytest
import requests

from tap_tiktok_reporting.api.connectivity import FirstContact, network_failure
from tap_tiktok_reporting.api.errors import TikTokAPIError, TikTokTransientError
from tap_tiktok_reporting.entities.streams import CampaignsStream
from tap_tiktok_reporting.tap import TapTikTok
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
    pytest.param(Fault(kind="http", status=408), id="http-408"),
    pytest.param(Fault(kind="code", code=50000, times=2), id="code-50000"),
    pytest.param(Fault(kind="code", code=50002), id="code-50002"),
    pytest.param(Fault(kind="code", code=40100, times=3), id="code-40100"),
    pytest.param(Fault(kind="code", code=40133), id="code-40133"),
    pytest.param(Fault(kind="code", code=40016), id="code-40016"),
    pytest.param(Fault(kind="code", code=40200), id="code-40200"),
    pytest.param(Fault(kind="code", code=40201), id="code-40201"),
    pytest.param(Fault(kind="code", code=40202), id="code-40202"),
    pytest.param(Fault(kind="code", code=40132), id="code-40132"),
    pytest.param(Fault(kind="code", code=40700, times=2), id="code-40700"),
    pytest.param(Fault(kind="code", code=40902), id="code-40902"),
    pytest.param(Fault(kind="code", code=40903), id="code-40903"),
    pytest.param(Fault(kind="code", code=40913), id="code-40913"),
    pytest.param(Fault(kind="code", code=51010), id="code-51010"),
    pytest.param(Fault(kind="code", code=52001), id="code-52001"),
    pytest.param(Fault(kind="code", code=53002), id="code-53002"),
    pytest.param(Fault(kind="code", code=60001), id="code-60001"),
    pytest.param(Fault(kind="code", code=61000, times=2), id="code-61000"),
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


def assert_no_listing_asked_twice_per_token(api, path):
    """Not retried: no query went out twice with the same token (refreshes aside)."""
    sent = [
        (json.dumps(r.params, sort_keys=True), r.headers.get("Access-Token"))
        for r in api.requests
        if r.path == path
    ]
    assert sent and len(sent) == len(set(sent))


@pytest.mark.parametrize(("code", "hint"), PERMANENT)
def test_permanent_errors_stop_with_one_clear_line(api, tmp_path, code, hint):
    advertiser_id = api.data.advertisers[0]["advertiser_id"]
    # The first advertiser's first listing, whichever request reaches the fake first.
    first_listing = {
        "advertiser_id": advertiser_id,
        "filtering": {
            "buying_types": ["AUCTION", "RESERVATION_RF"],
            "primary_status": "STATUS_ALL",
        },
    }
    api.inject(
        Fault(
            kind="code",
            code=code,
            path="adgroup/get/",
            message=f"Fake message {code}",
            when=first_listing,
        )
    )
    config = tap_config(api)
    catalog = catalog_selecting(config, ["ad_groups"])

    result = run_cli(tmp_path, config, catalog=catalog)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [ln for ln in result.stderr.splitlines() if "TikTok API error" in ln]
    assert len(errors) == 1, result.stderr
    line = errors[0]
    for part in (
        "adgroup/get/",
        f"advertiser {advertiser_id}",
        f"code {code}",
        f"Fake message {code}",
        "request_id",
        hint,
    ):
        assert part in line
    assert_no_listing_asked_twice_per_token(api, "adgroup/get/")
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


def test_expired_token_is_refreshed_and_the_request_retried(api):
    config = tap_config(api, refresh_token=api.refresh_token)
    # The first request proves the token from the start-up refresh; the second finds it expired.
    api.inject(Fault(kind="code", code=40102, path="ad/get/", skip=1))
    out = run_sync(config, streams=["ads"])
    assert len(records_by_id(out.records["ads"], "ad_id")) == len(api.data.ads)
    assert api.count("oauth2/refresh_token/") == 2  # at start, then on 40102


def test_tokens_are_refreshed_as_often_as_they_expire(api):
    api.expire_tokens_after(3)  # every token serves three requests, then answers 40102
    config = tap_config(api, refresh_token=api.refresh_token, page_size=2)
    out = run_sync(config, streams=["ads"])
    assert set(records_by_id(out.records["ads"], "ad_id")) == {a["ad_id"] for a in api.data.ads}
    served = [r for r in api.requests if r.path == "ad/get/" and r.code == 0]
    expired = [r for r in api.requests if r.code == 40102]
    assert len(served) >= 9
    # A refresh at start, then one per expiry; each token served three requests.
    assert api.count("oauth2/refresh_token/") == math.ceil(len(served) / 3)
    # Requests in flight with the same old token are all refused; one refresh serves them.
    assert len(expired) >= api.count("oauth2/refresh_token/") - 1 >= 2


def test_one_refresh_serves_every_request_refused_with_the_old_token(api):
    config = tap_config(api, refresh_token=api.refresh_token, page_size=1)
    tap = TapTikTok(config=config, validate_config=True)
    advertiser_ids = [a["advertiser_id"] for a in api.data.advertisers]
    contexts = [
        {"advertiser_id": advertiser_id, "buying_types": buying_types}
        for advertiser_id in advertiser_ids
        for buying_types in (("AUCTION", "RESERVATION_RF"), ("RESERVATION_TOP_VIEW",))
    ]
    list(CampaignsStream(tap).request_records(contexts[0]))  # the first token serves
    api.expire_access_token()
    start_together = threading.Barrier(len(contexts))

    def read(context: dict) -> list[dict]:
        stream = CampaignsStream(tap)
        start_together.wait()
        return list(stream.request_records(context))

    with concurrent.futures.ThreadPoolExecutor(len(contexts)) as pool:
        rows = [row for rows in pool.map(read, contexts) for row in rows]

    assert sorted(r["campaign_id"] for r in rows) == sorted(
        c["campaign_id"] for c in api.data.campaigns
    )
    assert len([r for r in api.requests if r.code == 40102]) >= 2  # several were refused...
    assert api.count("oauth2/refresh_token/") == 2  # ...and one refresh served them all


EXPIRY_MESSAGES = [
    pytest.param(
        {"refresh_token": "from-config"},
        "the refreshed token was refused as expired at once: check that refresh_token",
        id="refresh-token",
    ),
    pytest.param(
        {},
        "set refresh_token with app_id and secret, or create a new access token",
        id="no-refresh-token",
    ),
    pytest.param(
        {"refresh_token": "from-config", "app_id": None},
        "refresh_token cannot renew it without the app: set app_id and secret",
        id="refresh-token-without-app",
    ),
]


@pytest.mark.parametrize(("settings", "message"), EXPIRY_MESSAGES)
def test_an_expiry_that_cannot_be_recovered_says_what_fits_the_config(
    api, tmp_path, settings, message
):
    if settings.get("refresh_token"):
        settings = {**settings, "refresh_token": api.refresh_token}
    config = tap_config(api, **settings)
    # With refresh: the start-up token and one more fresh token are refused before serving
    # anything (the second refresh rules out a race between requests in flight).
    refreshes = 2 if config.get("refresh_token") and config.get("app_id") else 0
    if refreshes:
        api.refresh_issues_expired_tokens()  # every refreshed token is refused at once
    else:
        api.expire_access_token()
    result = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["campaigns"]))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [
        ln for ln in result.stderr.splitlines() if "TikTok API error" in ln and "Retrying" not in ln
    ]
    assert len(errors) == 1, result.stderr
    assert "code 40102" in errors[0] and message in errors[0]
    assert api.count("oauth2/refresh_token/") == refreshes
    assert_no_listing_asked_twice_per_token(api, "campaign/get/")


@pytest.mark.parametrize(
    "fault",
    [
        Fault(kind="http", status=408, path="oauth2/refresh_token/"),
        Fault(kind="code", code=40700, path="oauth2/refresh_token/"),
        Fault(kind="code", code=61000, path="oauth2/refresh_token/"),
        Fault(kind="drop", path="oauth2/refresh_token/"),
    ],
    ids=["http-408", "code-40700", "code-61000", "dropped-connection"],
)
def test_the_token_refresh_retries_transient_failures(api, fault):
    api.inject(fault)
    config = tap_config(api, access_token=None, refresh_token=api.refresh_token)
    out = run_sync(config, streams=["campaigns"])
    assert len(records_by_id(out.records["campaigns"], "campaign_id")) == len(api.data.campaigns)
    assert api.count("oauth2/refresh_token/") == 2
    assert "Retrying the token refresh" in out.log


def test_client_side_rate_limit_keeps_under_the_apps_qps(api):
    # The tap at 5 requests/s against an app allowed 10/s. A working limiter starts requests
    # more than 0.2 s apart, so 11 reach the fake in one second only if one of them stalls
    # for over a second on its way (impossible while requests go one after another). Without
    # the limiter, the tap sends them as fast as the machine allows. Every stream here makes
    # one or two requests, so one limiter per stream (each stream's first request free) is as
    # good as none.
    api.qps_limit = 10
    advertiser_id = api.data.advertisers[0]["advertiser_id"]
    config = tap_config(
        api,
        advertiser_ids=[advertiser_id],
        start_date="2025-05-01",
        end_date="2025-05-01",
        max_requests_per_second=5,
    )
    streams = list(TapTikTok(config=config, validate_config=False).streams)
    started = time.monotonic()
    out = run_sync(config, streams=streams)
    elapsed = time.monotonic() - started

    assert set(out.records) == set(streams)
    assert api.count() > 30
    assert not [r for r in api.requests if r.code == 40100]
    # However slow the machine (too slow for a burst to reach 11 in a second, say), N request
    # starts at 5 a second span at least (N - 1) / 5 seconds.
    assert elapsed >= (api.count() - 1) / 5


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


@pytest.mark.parametrize(
    "settings",
    [
        {"advertiser_ids": None},
        {"advertiser_ids": None, "refresh_token": "from-fake"},
        {"refresh_token": "from-fake"},
        {},
    ],
    ids=["discovery", "discovery-and-refresh-token", "refresh-token", "advertiser-ids"],
)
def test_discover_makes_no_request(api, tmp_path, settings):
    if settings.get("refresh_token"):
        settings = {**settings, "refresh_token": api.refresh_token}
    config = tap_config(api, **settings)
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


# Nothing listening at the API address ----------------------------------------------------------


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "settings",
    [{}, {"advertiser_ids": None, "refresh_token": "rt-abc"}],
    ids=["first-request-a-stream", "first-request-the-token-refresh"],
)
def test_nothing_listening_fails_fast_naming_host_and_port(api, tmp_path, settings):
    port = closed_port()
    base_url = f"http://127.0.0.1:{port}/open_api/v1.3"
    config = tap_config(api, api_base_url=base_url, max_retry_seconds=300, **settings)
    started = time.monotonic()
    catalog = catalog_selecting(tap_config(api), ["campaigns"])
    result = run_cli(tmp_path, config, catalog=catalog, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert elapsed < 40
    assert "Traceback" not in result.stderr
    errors = [ln for ln in result.stderr.splitlines() if "| ERROR" in ln and "TikTok API" in ln]
    assert len(errors) == 1, result.stderr
    assert f"cannot connect to 127.0.0.1:{port} (ConnectionRefusedError)" in errors[0]
    assert "check api_base_url, or HTTPS_PROXY if you use a proxy" in errors[0]
    assert "gave up after retrying" not in errors[0]  # stopped by the first-contact deadline
    assert api.count() == 0


def test_connection_failures_after_an_answer_keep_the_retry_budget():
    url = f"http://127.0.0.1:{closed_port()}/open_api/v1.3/campaign/get/?secret=s3cr3t"
    try:
        requests.get(url, timeout=2)
    except requests.exceptions.ConnectionError as exc:
        refused = exc
    now = [0.0]
    first_contact = FirstContact(patience_seconds=20, clock=lambda: now[0])
    first_contact.note_attempt()
    now[0] = 19.0
    assert isinstance(
        network_failure(refused, url, "campaign/get/", first_contact), TikTokTransientError
    )
    now[0] = 21.0
    gave_up = network_failure(refused, url, "campaign/get/", first_contact)
    assert isinstance(gave_up, TikTokAPIError) and "s3cr3t" not in str(gave_up)
    first_contact.note_answer()
    now[0] = 10_000.0
    later = network_failure(refused, url, "campaign/get/", first_contact)
    assert isinstance(later, TikTokTransientError)
    assert str(later).startswith("TikTok API error at campaign/get/: cannot connect to 127.0.0.1:")


# Pages that shift while the tap pages ----------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "path", "key", "page_size"),
    [
        ("campaigns", "campaign/get/", "campaign_id", 1),
        ("ads", "ad/get/", "ad_id", 3),
    ],
)
def test_entity_pages_that_shift_give_each_object_once(api, stream, path, key, page_size):
    api.shift_pages(path, listings=100)
    config = tap_config(api, page_size=page_size)
    out = run_sync(config, streams=[stream])
    assert api.page_shifts.shifted_listings >= 3  # the fake really shifted pages
    got = records_by_id(out.records[stream], key)
    assert set(got) == {row[key] for row in getattr(api.data, stream)}


SHIFT_REPORT = {
    "name": "campaign_spend_daily",
    "report_type": "BASIC",
    "data_level": "CAMPAIGN",
    "metrics": ["spend", "impressions"],
}


def test_report_pages_that_shift_give_each_row_once(api):
    api.shift_pages("report/integrated/get/", listings=100)
    start, end = "2025-05-01", "2025-05-03"
    config = tap_config(
        api,
        page_size=3,
        start_date=start,
        end_date=end,
        reports=[SHIFT_REPORT],
        advertisers_per_report_request=1,  # the shift is set up per advertiser
    )
    out = run_sync(config, streams=["campaign_spend_daily"])
    assert api.page_shifts.shifted_listings >= 2

    expected = {}
    for advertiser in api.data.advertisers:
        advertiser_id = advertiser["advertiser_id"]
        rows = api.complete_report_rows(
            advertiser_id,
            report_type="BASIC",
            data_level="AUCTION_CAMPAIGN",
            dimensions=["campaign_id", "stat_time_day"],
            metrics=["spend", "impressions"],
            start_date=start,
            end_date=end,
            filtering=[
                {
                    "field_name": "campaign_status",
                    "filter_type": "IN",
                    "filter_value": '["STATUS_ALL"]',
                }
            ],
        )
        for row in rows:
            day = row["dimensions"]["stat_time_day"][:10]
            key = (advertiser_id, row["dimensions"]["campaign_id"], day)
            expected[key] = decimal.Decimal(row["metrics"]["spend"])
    records = out.records["campaign_spend_daily"]
    got = {(r["advertiser_id"], r["campaign_id"], r["stat_time_day"]): r for r in records}
    assert len(got) == len(records), "duplicate keys"
    assert {k: decimal.Decimal(str(r["spend"])) for k, r in got.items()} == expected
