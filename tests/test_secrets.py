"""No secret reaches stdout or stderr at DEBUG level, on any path, success or failure.

Every run is the real `tap-tiktok` command with TAP_TIKTOK_LOGLEVEL=DEBUG, and each test also
checks that DEBUG lines really were written (urllib3's connection and request lines), so that
a test cannot pass only because nothing was logged.
"""

from __future__ import annotations

import socket
import subprocess
from typing import Any

from tests.conftest import ENTITY_STREAMS, catalog_selecting, run_cli, tap_config
from tests.fake_api import FakeMarketingAPI, Fault

DEBUG = {"TAP_TIKTOK_LOGLEVEL": "DEBUG"}
REDACTED_DISCOVERY_LINE = "/oauth2/advertiser/get/?app_id={app_id}&secret=[REDACTED]"


def discovery_config(api: FakeMarketingAPI, **overrides: Any) -> dict[str, Any]:
    """Advertisers discovered (the app secret goes in a query) and a refresh token set."""
    return tap_config(api, advertiser_ids=None, refresh_token=api.refresh_token, **overrides)


def run_at_debug(
    api: FakeMarketingAPI, tmp_path, config: dict[str, Any], streams=ENTITY_STREAMS
) -> subprocess.CompletedProcess[str]:
    catalog = catalog_selecting(tap_config(api), list(streams))
    return run_cli(tmp_path, config, catalog=catalog, env=DEBUG)


def assert_no_secret(
    result: subprocess.CompletedProcess[str], config: dict[str, Any], api: FakeMarketingAPI
) -> None:
    """No configured secret and no access token the fake ever issued is in the output."""
    secrets = {config.get(name) for name in ("access_token", "secret", "refresh_token")}
    secrets |= {api.secret, api.refresh_token, *api.issued_access_tokens}
    secrets.discard(None)
    for stream_name, output in (("stdout", result.stdout), ("stderr", result.stderr)):
        for secret in secrets:
            assert secret not in output, f"a secret is in {stream_name}"


def assert_debug_lines(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    """DEBUG output was produced: urllib3 wrote its lines, including each of `expected`."""
    debug = [ln for ln in result.stderr.splitlines() if "| DEBUG " in ln and "urllib3" in ln]
    assert debug, "no DEBUG line from urllib3: the test would prove nothing"
    for text in expected:
        assert any(text in ln for ln in debug), f"no DEBUG line with {text!r}"


def test_success_with_discovery_and_refresh(api, tmp_path):
    config = discovery_config(api)
    result = run_at_debug(api, tmp_path, config)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"type":"RECORD"' in result.stdout.replace(" ", "")
    assert_debug_lines(
        result,
        REDACTED_DISCOVERY_LINE.format(app_id=api.app_id),
        '"POST /open_api/v1.3/oauth2/refresh_token/',
    )
    assert_no_secret(result, config, api)


def test_retries_of_every_endpoint(api, tmp_path):
    api.inject(Fault(kind="http", status=500, path="oauth2/refresh_token/"))
    api.inject(Fault(kind="code", code=50000, path="oauth2/advertiser/get/"))
    api.inject(Fault(kind="drop", path="oauth2/advertiser/get/"))
    api.inject(Fault(kind="code", code=40100, path="advertiser/info/"))
    api.inject(Fault(kind="http", status=503, path="campaign/get/"))
    config = discovery_config(api)
    result = run_at_debug(api, tmp_path, config)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count("Retrying in") >= 4
    assert_debug_lines(result, REDACTED_DISCOVERY_LINE.format(app_id=api.app_id))
    assert_no_secret(result, config, api)


def test_connection_refused(api, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # No refresh token: the first request is the discovery, whose query holds the app secret.
    base_url = f"http://127.0.0.1:{port}/open_api/v1.3"
    config = tap_config(api, advertiser_ids=None, api_base_url=base_url, max_retry_seconds=1)
    result = run_at_debug(api, tmp_path, config)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert_debug_lines(result, f"Starting new HTTP connection (1): 127.0.0.1:{port}")
    assert_no_secret(result, config, api)


def test_permanent_error_on_discovery(api, tmp_path):
    api.inject(Fault(kind="code", code=40101, path="oauth2/advertiser/get/"))
    config = discovery_config(api)
    result = run_at_debug(api, tmp_path, config)
    assert result.returncode == 1
    assert "code 40101" in result.stderr and "Traceback" not in result.stderr
    assert_debug_lines(result, REDACTED_DISCOVERY_LINE.format(app_id=api.app_id))
    assert_no_secret(result, config, api)


def test_permanent_error_on_the_token_endpoint(api, tmp_path):
    api.inject(Fault(kind="code", code=40107, path="oauth2/refresh_token/"))
    config = discovery_config(api)
    result = run_at_debug(api, tmp_path, config)
    assert result.returncode == 1
    assert "code 40107" in result.stderr and "Traceback" not in result.stderr
    assert_debug_lines(result, '"POST /open_api/v1.3/oauth2/refresh_token/')
    assert_no_secret(result, config, api)


def test_expiry_with_refresh_token(api, tmp_path):
    api.expire_tokens_after(4)
    config = discovery_config(api)
    result = run_at_debug(api, tmp_path, config)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(api.issued_access_tokens) >= 4  # the configured one and several refreshed ones
    assert_debug_lines(result, REDACTED_DISCOVERY_LINE.format(app_id=api.app_id))
    assert_no_secret(result, config, api)


def test_refreshed_token_refused_at_once(api, tmp_path):
    api.refresh_issues_expired_tokens()
    config = discovery_config(api)
    result = run_at_debug(api, tmp_path, config)
    assert result.returncode == 1
    assert "code 40102" in result.stderr and "Traceback" not in result.stderr
    assert_debug_lines(result, REDACTED_DISCOVERY_LINE.format(app_id=api.app_id))
    assert_no_secret(result, config, api)


def test_expiry_without_refresh_token(api, tmp_path):
    api.expire_access_token()
    config = tap_config(api, advertiser_ids=None)
    result = run_at_debug(api, tmp_path, config)
    assert result.returncode == 1
    assert "code 40102" in result.stderr and "Traceback" not in result.stderr
    assert_debug_lines(result, REDACTED_DISCOVERY_LINE.format(app_id=api.app_id))
    assert_no_secret(result, config, api)
