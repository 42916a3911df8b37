"""`tap-tiktok-auth`: authorization URL, auth-code exchange and advertiser listing, on the fake API."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tap_tiktok_reporting.auth_helper.cli import (
    AdvertiserSummary,
    advertiser_table,
    main,
    mask_token,
)
from tests.fake_api import FakeMarketingAPI, Fault

AUTH_EXECUTABLE = str(Path(sys.executable).with_name("tap-tiktok-auth"))
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_tap_env(monkeypatch):
    """Settings from the developer's environment must not leak into these tests."""
    for name in list(os.environ):
        if name.startswith("TAP_TIKTOK_"):
            monkeypatch.delenv(name)


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    """Run the command in this process; return its exit code, stdout and stderr."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def run_command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `tap-tiktok-auth` script as users do."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_")}
    return subprocess.run(
        [AUTH_EXECUTABLE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **(env or {})},
        check=False,
    )


def app_options(api: FakeMarketingAPI) -> list[str]:
    return ["--app-id", api.app_id, "--secret", api.secret, "--api-base-url", api.base_url]


def table_rows(text: str) -> dict[str, list[str]]:
    """Rows of an advertiser table keyed by id; columns are split on runs of 2+ spaces."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("ADVERTISER ID"))
    rows = {}
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        cells = re.split(r" {2,}", line.strip())
        rows[cells[0]] = cells
    return rows


def expected_rows(api: FakeMarketingAPI) -> dict[str, list[str]]:
    authorized = set(api.data.authorized_advertiser_ids)
    return {
        a["advertiser_id"]: [a["advertiser_id"], a["name"], a["display_timezone"], a["currency"]]
        for a in api.data.advertisers
        if a["advertiser_id"] in authorized
    }


def assert_one_error_line(output: str, code: int) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert str(code) in lines[0]
    assert "Traceback" not in output
    return lines[0]


# url


def test_url_prints_the_encoded_authorization_url(capsys):
    redirect = "https://example.com/cb?x=1&y=a b"
    code, out, err = run_main(
        capsys, "url", "--app-id", "7000 01", "--redirect-uri", redirect, "--state", "s&t=1"
    )

    assert code == 0
    [url] = out.splitlines()
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "business-api.tiktok.com",
        "/portal/auth",
    )
    assert " " not in url and "example.com/cb?" not in url  # every value is encoded
    assert parse_qs(parts.query) == {
        "app_id": ["7000 01"],
        "state": ["s&t=1"],
        "redirect_uri": [redirect],
    }
    assert len(err.strip().splitlines()) == 1
    assert "auth_code" in err and "state=s&t=1" in err


def test_url_makes_up_a_state_when_none_is_given(capsys):
    code, out, err = run_main(capsys, "url", "--app-id", "1", "--redirect-uri", "https://e.x/")

    assert code == 0
    [state] = parse_qs(urlsplit(out.strip()).query)["state"]
    assert len(state) >= 12
    assert f"state={state}" in err


# exchange


def test_exchange_prints_a_masked_token_and_the_granted_advertisers(api):
    auth_code = api.issue_auth_code()
    result = run_command("exchange", *app_options(api), "--auth-code", auth_code)

    assert result.returncode == 0, result.stderr
    token = api.access_token  # the token the exchange just issued
    output = result.stdout + result.stderr
    assert token not in output
    assert api.secret not in output and auth_code not in output
    masked = mask_token(token)
    assert masked == f"{token[:4]}…{token[-4:]}"
    assert f"Access token: {masked}" in result.stdout
    assert table_rows(result.stdout) == expected_rows(api)
    assert f"meltano config set tap-tiktok access_token {masked}" in result.stdout
    assert result.stderr == ""


def test_exchange_shows_the_token_when_asked(api, capsys):
    code, out, _ = run_main(
        capsys, "exchange", *app_options(api), "--auth-code", api.issue_auth_code(), "--show-token"
    )

    assert code == 0
    assert f"Access token: {api.access_token}\n" in out
    assert f"meltano config set tap-tiktok access_token {api.access_token}\n" in out
    assert table_rows(out) == expected_rows(api)


def test_exchange_writes_the_token_to_a_private_file(api, capsys, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("old")
    token_file.chmod(0o644)
    code, out, _ = run_main(
        capsys,
        "exchange",
        *app_options(api),
        "--auth-code",
        api.issue_auth_code(),
        "--token-file",
        str(token_file),
    )

    assert code == 0
    assert token_file.read_text() == api.access_token + "\n"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert api.access_token not in out
    assert f'set tap-tiktok access_token "$(cat {token_file})"' in out


def test_exchange_refuses_an_unwritable_token_file_before_using_the_code(api, capsys, tmp_path):
    auth_code = api.issue_auth_code()
    missing_folder = tmp_path / "missing" / "token"
    code, out, err = run_main(
        capsys,
        "exchange",
        *app_options(api),
        "--auth-code",
        auth_code,
        "--token-file",
        str(missing_folder),
    )

    assert code == 1
    assert out == "" and "token file" in err
    assert api.count("oauth2/access_token/") == 0
    assert run_main(capsys, "exchange", *app_options(api), "--auth-code", auth_code)[0] == 0


def test_exchange_of_a_used_auth_code_fails_with_one_line(api, capsys):
    auth_code = api.issue_auth_code()
    assert run_main(capsys, "exchange", *app_options(api), "--auth-code", auth_code)[0] == 0

    result = run_command("exchange", *app_options(api), "--auth-code", auth_code)

    assert result.returncode == 1
    assert result.stdout == ""
    line = assert_one_error_line(result.stderr, 40110)
    assert "oauth2/access_token/" in line and "request_id" in line
    assert api.secret not in result.stderr and auth_code not in result.stderr


def test_exchange_of_an_unknown_auth_code_fails_with_one_line(api, capsys):
    code, out, err = run_main(capsys, "exchange", *app_options(api), "--auth-code", "auth-made-up")

    assert code == 1
    assert out == ""
    assert_one_error_line(err, 40110)
    assert "auth-made-up" not in err and api.secret not in err


def test_exchange_with_a_wrong_secret_fails_without_showing_it(api, capsys):
    code, out, err = run_main(
        capsys,
        "exchange",
        "--app-id",
        api.app_id,
        "--secret",
        "not-the-secret",
        "--api-base-url",
        api.base_url,
        "--auth-code",
        api.issue_auth_code(),
    )

    assert code == 1
    assert_one_error_line(err, 40101)
    assert "not-the-secret" not in out + err


def test_exchange_lists_ids_only_when_the_details_cannot_be_read(api, capsys):
    api.inject(Fault(kind="code", code=40001, path="advertiser/info/"))
    code, out, err = run_main(
        capsys, "exchange", *app_options(api), "--auth-code", api.issue_auth_code()
    )

    assert code == 0
    assert f"Access token: {mask_token(api.access_token)}" in out
    rows = table_rows(out)
    assert set(rows) == set(api.data.authorized_advertiser_ids)
    assert all(cells[1:] == ["-", "-", "-"] for cells in rows.values())
    assert "40001" in err and "ids only" in err
    assert api.access_token not in out + err


# advertisers


def test_advertisers_table_matches_the_api(api, capsys):
    readable = api.data.authorized_advertiser_ids[:2]
    api.data.authorized_advertiser_ids = readable
    code, out, err = run_main(
        capsys, "advertisers", *app_options(api), "--access-token", api.access_token
    )

    assert code == 0, err
    assert table_rows(out) == expected_rows(api)
    assert list(table_rows(out)) == readable
    assert api.access_token not in out + err and api.secret not in out + err


def test_advertisers_table_columns_line_up(api, capsys):
    code, out, _ = run_main(
        capsys, "advertisers", *app_options(api), "--access-token", api.access_token
    )

    assert code == 0
    header, *rows = out.splitlines()
    currency_column = header.index("CURRENCY")
    for row in rows:
        # Wide characters (e.g. 東京) take two columns: count columns, not characters.
        before = row[: row.rindex("  ") + 2]
        width = sum(2 if "\u3000" <= c <= "\u9fff" else 1 for c in before)
        assert width == currency_column, row


def test_advertisers_json_matches_the_api(api):
    result = run_command(
        "advertisers",
        "--format",
        "json",
        env={
            "TAP_TIKTOK_ACCESS_TOKEN": api.access_token,
            "TAP_TIKTOK_APP_ID": api.app_id,
            "TAP_TIKTOK_SECRET": api.secret,
            "TAP_TIKTOK_API_BASE_URL": api.base_url,
        },
    )

    assert result.returncode == 0, result.stderr
    expected: list[dict[str, Any]] = [
        {
            "advertiser_id": a["advertiser_id"],
            "name": a["name"],
            "time_zone": a["display_timezone"],
            "currency": a["currency"],
        }
        for a in api.data.advertisers
    ]
    assert json.loads(result.stdout) == expected
    assert result.stderr == ""


def test_advertisers_with_a_bad_token_fails_with_one_line(api, capsys):
    code, out, err = run_main(
        capsys, "advertisers", *app_options(api), "--access-token", "revoked-token-0123456789"
    )

    assert code == 1
    assert out == ""
    line = assert_one_error_line(err, 40105)
    assert "oauth2/advertiser/get/" in line
    assert "revoked-token-0123456789" not in err and api.secret not in err


def test_a_base_url_without_scheme_is_a_usage_error(capsys):
    code, _, err = run_main(
        capsys,
        "advertisers",
        "--access-token",
        "t",
        "--app-id",
        "a",
        "--secret",
        "s3cr3t-value",
        "--api-base-url",
        "localhost:1/open_api/v1.3",
    )

    assert code == 2
    assert "--api-base-url" in err and "s3cr3t-value" not in err


# the standalone fake, as the README tells to try `exchange`


def standalone_fake() -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`python -m tests.fake_api` on a free port, and what it printed before "Ctrl-C to stop."."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_api", "--port", "0", "--advertisers", "2", "--qps", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    printed = {}
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("Ctrl-C"):
            break
        name, _, value = line.partition(":")
        printed[name.strip()] = value.strip()
    return process, printed


def redirect_location(url: str) -> tuple[int, str]:
    """The status and Location header of a GET, without following the redirect."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        return response.status, response.getheader("Location") or ""
    finally:
        connection.close()


def test_exchange_works_against_the_standalone_fake_with_its_auth_codes():
    process, fake = standalone_fake()
    try:
        options = [
            "--app-id",
            fake["app_id"],
            "--secret",
            fake["secret"],
            "--api-base-url",
            fake["base_url"],
        ]
        # The code printed at start.
        first = run_command("exchange", *options, "--auth-code", fake["auth_code"])
        assert first.returncode == 0, first.stderr
        assert "The token grants 2 advertiser(s):" in first.stdout
        assert set(table_rows(first.stdout)) == set(fake["advertiser_ids"].split(", "))

        # More codes: the authorization page redirects at once, with a fresh auth_code.
        status, location = redirect_location(fake["authorize_url"])
        assert status == 302
        redirect = urlsplit(location)
        assert redirect._replace(query="").geturl() == "https://example.com/callback"
        query = parse_qs(redirect.query)
        assert query["state"] == ["try-the-fake"]
        [auth_code] = query["auth_code"]
        assert auth_code != fake["auth_code"]
        second = run_command("exchange", *options, "--auth-code", auth_code)
        assert second.returncode == 0, second.stderr
        assert set(table_rows(second.stdout)) == set(fake["advertiser_ids"].split(", "))

        # Each code works once, as on TikTok.
        again = run_command("exchange", *options, "--auth-code", auth_code)
        assert again.returncode == 1
        assert_one_error_line(again.stderr, 40110)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)


def test_the_authorization_page_refuses_an_unknown_app_or_a_missing_redirect(api):
    origin = api.base_url.split("/open_api/")[0]
    redirect = "https%3A%2F%2Fexample.com%2Fcb"
    unknown_app = f"{origin}/portal/auth?app_id=123&redirect_uri={redirect}&state=s"
    assert redirect_location(unknown_app)[0] == 400
    no_redirect = f"{origin}/portal/auth?app_id={api.app_id}&state=s"
    assert redirect_location(no_redirect)[0] == 400
    status, location = redirect_location(
        f"{origin}/portal/auth?app_id={api.app_id}&redirect_uri=https%3A%2F%2Fe.x%2Fcb%3Fk%3D1"
    )
    assert status == 302
    # The redirect keeps its own query; no state was sent, so none comes back.
    assert parse_qs(urlsplit(location).query).keys() == {"k", "auth_code"}


# interruption


def wait_until(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("command", "path"),
    [("advertisers", "oauth2/advertiser/get/"), ("exchange", "oauth2/access_token/")],
)
def test_ctrl_c_while_waiting_on_the_api_ends_with_one_line_and_no_singer_state(api, command, path):
    api.inject(Fault(kind="slow", path=path, delay=5))
    if command == "advertisers":
        args = ["advertisers", *app_options(api), "--access-token", api.access_token]
    else:
        args = ["exchange", *app_options(api), "--auth-code", api.issue_auth_code()]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_")}
    process = subprocess.Popen(
        [AUTH_EXECUTABLE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean,
    )
    try:
        wait_until(lambda: api.peak_in_flight >= 1)  # the request is being answered, slowly
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=4)  # sooner than the slow answer
    finally:
        process.kill()
        process.wait()

    assert out == ""  # no Singer STATE message, nothing else
    assert process.returncode == 130
    assert [line for line in err.splitlines() if line.strip()] == ["Interrupted."]
    assert api.secret not in err and api.access_token not in err


def test_sigterm_ends_the_command_without_singer_state(api):
    api.inject(Fault(kind="slow", path="oauth2/advertiser/get/", delay=5))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_")}
    process = subprocess.Popen(
        [AUTH_EXECUTABLE, "advertisers", *app_options(api), "--access-token", api.access_token],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean,
    )
    try:
        wait_until(lambda: api.peak_in_flight >= 1)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=4)
    finally:
        process.kill()
        process.wait()

    assert out == ""
    assert process.returncode == -signal.SIGTERM  # terminated, not a success


# help and formatting


@pytest.mark.parametrize("command", ["url", "exchange", "advertisers"])
def test_help_documents_each_command(capsys, command):
    code, out, _ = run_main(capsys, "--help")
    assert code == 0
    assert command in out

    code, out, _ = run_main(capsys, command, "--help")
    assert code == 0
    assert "--app-id" in out
    if command != "url":
        assert "TAP_TIKTOK_SECRET" in out and "--api-base-url" in out


def test_mask_token_hides_all_of_a_short_token():
    assert mask_token("0123456789abcdef0123") == "0123…0123"
    assert mask_token("short-token") == "…"


def test_advertiser_table_marks_missing_values():
    table = advertiser_table([AdvertiserSummary("1", name="A")])
    assert table.splitlines()[1].split() == ["1", "A", "-", "-"]
