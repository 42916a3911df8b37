"""`tap-tiktok-auth`: get a Marketing API access token and see which advertisers it reads.

Every request goes through the tap's own streams, so responses are checked, retried and rate
limited as in a sync, and errors read as the tap's one-line `TikTokAPIError` messages.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import logging
import os
import secrets
import shlex
import signal
import threading
import typing as t
import unicodedata
from urllib.parse import quote, urlencode, urlsplit

import click
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.metrics import get_metrics_logger

from tap_tiktok_reporting.auth_helper.token_exchange import exchange_auth_code
from tap_tiktok_reporting.entities.advertiser_discovery import AuthorizedAdvertisersStream
from tap_tiktok_reporting.tap import TapTikTok

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

AUTHORIZATION_URL = "https://business-api.tiktok.com/portal/auth"
PROGRAM = "tap-tiktok-auth"
# Long enough to ride out a rate limit or a brief outage, short enough for someone waiting.
RETRY_SECONDS = 60
_MASK = "…"
_MASK_KEEP = 4
_HIDDEN = "<hidden>"
_MISSING = "-"

_ENV_ACCESS_TOKEN = "TAP_TIKTOK_ACCESS_TOKEN"
_ENV_APP_ID = "TAP_TIKTOK_APP_ID"
_ENV_SECRET = "TAP_TIKTOK_SECRET"
_ENV_API_BASE_URL = "TAP_TIKTOK_API_BASE_URL"
_ENV_SANDBOX = "TAP_TIKTOK_SANDBOX"
# The shell's exit status for a command ended by Ctrl-C (128 + SIGINT).
_EXIT_INTERRUPTED = 130


@dataclasses.dataclass(frozen=True)
class AdvertiserSummary:
    """One advertiser as the command lists it."""

    advertiser_id: str
    name: str | None = None
    time_zone: str | None = None
    currency: str | None = None


def authorization_url(app_id: str, redirect_uri: str, state: str) -> str:
    """TikTok's page where an advertiser grants the app access, with every value URL-encoded."""
    query = urlencode(
        {"app_id": app_id, "state": state, "redirect_uri": redirect_uri}, quote_via=quote
    )
    return f"{AUTHORIZATION_URL}?{query}"


def mask_token(token: str) -> str:
    """The token's first and last four characters; a token too short to keep any is hidden."""
    if len(token) < 4 * _MASK_KEEP:
        return _MASK
    return f"{token[:_MASK_KEEP]}{_MASK}{token[-_MASK_KEEP:]}"


def redact(text: str, hidden: Iterable[str | None]) -> str:
    """`text` with every one of the `hidden` values replaced, longest first."""
    for value in sorted((v for v in hidden if v), key=len, reverse=True):
        text = text.replace(value, _HIDDEN)
    return text


@contextlib.contextmanager
def own_signal_handlers() -> Iterator[None]:
    """Keep this process's SIGINT and SIGTERM handling across the block.

    A tap installs handlers that print a Singer STATE message and exit 0: right for a sync,
    wrong for this command, where Ctrl-C must stop it as a failure and print no Singer output.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread can (re)install handlers, and the tap does not try
        return
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in saved.items():
            if handler is not None:  # None: set outside Python, which cannot be restored
                signal.signal(number, handler)


def build_tap(settings: dict[str, t.Any]) -> TapTikTok:
    """A tap holding `settings`, whose streams the command uses for its requests."""
    config = {
        # Required by the tap's schema, unused here.
        "start_date": datetime.date.today().isoformat(),
        "max_retry_seconds": RETRY_SECONDS,
        **{k: v for k, v in settings.items() if v is not None},
    }
    with own_signal_handlers():
        tap = TapTikTok(config=config, validate_config=False)
    # The tap sets the metrics level to its log level; request metrics are noise here.
    get_metrics_logger().setLevel(logging.WARNING)
    return tap


def authorized_advertisers(tap: TapTikTok) -> list[AdvertiserSummary]:
    """The advertisers the tap's token may read, with names (`/oauth2/advertiser/get/`)."""
    rows = AuthorizedAdvertisersStream(tap).request_records(None)
    found = {
        str(row["advertiser_id"]): AdvertiserSummary(
            str(row["advertiser_id"]), name=row.get("advertiser_name") or None
        )
        for row in rows
    }
    return list(found.values())


def with_profiles(
    settings: dict[str, t.Any], advertisers: Sequence[AdvertiserSummary]
) -> list[AdvertiserSummary]:
    """`advertisers` completed from `/advertiser/info/`, read with the token in `settings`."""
    if not advertisers:
        return []
    ids = [a.advertiser_id for a in advertisers]
    profiles = build_tap({**settings, "advertiser_ids": ids}).advertiser_profiles
    completed = []
    for advertiser in advertisers:
        profile = profiles.get(advertiser.advertiser_id, {})
        completed.append(
            dataclasses.replace(
                advertiser,
                name=profile.get("name") or advertiser.name,
                time_zone=profile.get("display_timezone") or profile.get("timezone"),
                currency=profile.get("currency"),
            )
        )
    return completed


def _display_width(text: str) -> int:
    """Terminal columns `text` takes: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in {"W", "F"} else 1 for c in text)


def advertiser_table(advertisers: Sequence[AdvertiserSummary]) -> str:
    """An aligned text table: id, name, time zone, currency."""
    header = ("ADVERTISER ID", "NAME", "TIME ZONE", "CURRENCY")
    rows = [header] + [
        (a.advertiser_id, a.name or _MISSING, a.time_zone or _MISSING, a.currency or _MISSING)
        for a in advertisers
    ]
    widths = [max(_display_width(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [
            cell + " " * (width - _display_width(cell))
            for cell, width in zip(row, widths, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def advertiser_json(advertisers: Sequence[AdvertiserSummary]) -> str:
    """The advertisers as a JSON list of objects."""
    return json.dumps([dataclasses.asdict(a) for a in advertisers], indent=2, ensure_ascii=False)


@contextlib.contextmanager
def reported_errors(*hidden: str | None) -> Iterator[None]:
    """Turn API and network failures into one line on stderr and exit code 1."""
    try:
        yield
    except FatalAPIError as exc:
        _fail(redact(str(exc), hidden))
    except RetriableAPIError as exc:
        _fail(redact(f"{exc} (gave up after retrying)", hidden))
    except requests.exceptions.RequestException as exc:
        # Their text can carry the URL, whose query holds the app secret.
        _fail(f"the request failed ({type(exc).__name__}): check --api-base-url")


def _fail(message: str) -> t.NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(1)


def _check_base_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and urlsplit(value).scheme not in {"http", "https"}:
        msg = "must start with http:// or https://"
        raise click.BadParameter(msg)
    return value


def _endpoint_options(command: t.Callable) -> t.Callable:
    """`--api-base-url` and `--sandbox`, shared by the commands that call the API."""
    command = click.option(
        "--sandbox",
        is_flag=True,
        envvar=_ENV_SANDBOX,
        show_envvar=True,
        help="Use TikTok's sandbox host.",
    )(command)
    return click.option(
        "--api-base-url",
        envvar=_ENV_API_BASE_URL,
        show_envvar=True,
        callback=_check_base_url,
        help="API root instead of TikTok's, e.g. http://127.0.0.1:8080/open_api/v1.3. "
        "Wins over --sandbox.",
    )(command)


def _app_id_option(command: t.Callable) -> t.Callable:
    return click.option(
        "--app-id", required=True, envvar=_ENV_APP_ID, show_envvar=True, help="The app's id."
    )(command)


def _secret_option(command: t.Callable) -> t.Callable:
    return click.option(
        "--secret", required=True, envvar=_ENV_SECRET, show_envvar=True, help="The app's secret."
    )(command)


class _CommandGroup(click.Group):
    """The commands' group: Ctrl-C ends any of them with one line and exit code 130."""

    def invoke(self, ctx: click.Context) -> t.Any:
        """Run the command; an interrupt is reported, not shown as a traceback or "Aborted!"."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo(err=True)  # past the terminal's "^C"
            click.echo("Interrupted.", err=True)
            ctx.exit(_EXIT_INTERRUPTED)


@click.group(cls=_CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Get a TikTok Marketing API access token for tap-tiktok, and list what it can read.

    First `url` prints the page where an advertiser authorizes the app; then `exchange` turns
    the auth_code TikTok redirects with into an access token; `advertisers` lists the
    advertisers a token can read.
    """


@cli.command()
@_app_id_option
@click.option(
    "--redirect-uri",
    required=True,
    help="The app's redirect URL, exactly as registered with the app.",
)
@click.option("--state", help="Value TikTok passes back to the redirect. Default: random.")
def url(app_id: str, redirect_uri: str, state: str | None) -> None:
    """Print the authorization URL to open in a browser.

    The URL goes to stdout alone; the instructions go to stderr.
    """
    state = state or secrets.token_urlsafe(12)
    click.echo(authorization_url(app_id, redirect_uri, state))
    click.echo(
        "Open this URL, sign in and approve the app; TikTok then redirects to the redirect URI "
        f"with state={state} and an auth_code parameter: copy that auth_code (valid for one "
        f"hour, usable once) into `{PROGRAM} exchange`.",
        err=True,
    )


@cli.command()
@_app_id_option
@_secret_option
@click.option("--auth-code", required=True, help="The auth_code from the redirect (single use).")
@click.option("--show-token", is_flag=True, help="Print the access token in full.")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the full access token to this file (created readable by you only).",
)
@_endpoint_options
def exchange(
    app_id: str,
    secret: str,
    auth_code: str,
    show_token: bool,
    token_file: str | None,
    api_base_url: str | None,
    sandbox: bool,
) -> None:
    """Exchange an auth_code for a long-lived access token.

    Prints the token (masked unless --show-token), the advertisers it grants with their
    names, time zones and currencies, and how to set it in the tap's config. The auth_code
    works once: to see a masked token in full, pass --show-token or --token-file next time,
    or authorize again.
    """
    endpoint = {"api_base_url": api_base_url, "sandbox": sandbox}
    if token_file:
        _check_writable(token_file)  # before the exchange uses up the auth_code
    with reported_errors(secret, auth_code):
        grant = exchange_auth_code(
            build_tap({"app_id": app_id, "secret": secret, **endpoint}), auth_code
        )
    token = grant.access_token
    if token_file:
        _write_private_file(token_file, token)
    shown = token if show_token else mask_token(token)
    click.echo(f"Access token: {shown}")
    if not show_token:
        click.echo(
            f"(masked; the full token is in {token_file})"
            if token_file
            else "(masked; the auth_code is now used up: to get a token in full, authorize "
            "again and pass --show-token or --token-file)"
        )

    advertisers = [AdvertiserSummary(advertiser_id) for advertiser_id in grant.advertiser_ids]
    try:
        advertisers = with_profiles({"access_token": token, **endpoint}, advertisers)
    except (FatalAPIError, RetriableAPIError, requests.exceptions.RequestException) as exc:
        problem = str(exc) if isinstance(exc, (FatalAPIError, RetriableAPIError)) else "failed"
        click.echo(
            f"Warning: could not read the advertisers' details ({redact(problem, [token])}); "
            "listing their ids only.",
            err=True,
        )
    click.echo()
    if advertisers:
        click.echo(f"The token grants {len(advertisers)} advertiser(s):")
        click.echo(advertiser_table(advertisers))
    else:
        click.echo("The token grants no advertisers.")

    if token_file:
        value = f'"$(cat {shlex.quote(token_file)})"'
    else:
        value = shlex.quote(token) if show_token else shown
    click.echo()
    click.echo("Set it in the tap's config:")
    click.echo(f"  meltano config set tap-tiktok access_token {value}")
    click.echo(f'  or in config.json: "access_token": "{shown}"')


def _check_writable(path: str) -> None:
    """Fail unless `path` can be written (created in its folder, or overwritten)."""
    target = path if os.path.exists(path) else (os.path.dirname(path) or os.curdir)
    if not os.access(target, os.W_OK):
        _fail(f"cannot write the token file {path}")


def _write_private_file(path: str, content: str) -> None:
    """Write `content` to `path`, readable and writable by the owner only."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        if hasattr(os, "fchmod"):  # an existing file keeps its mode otherwise
            os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(content + "\n")
    except OSError as exc:
        _fail(
            f"could not write {path} ({exc.strerror}); the auth_code is used up, so authorize "
            "the app again"
        )


@cli.command()
@click.option(
    "--access-token",
    required=True,
    envvar=_ENV_ACCESS_TOKEN,
    show_envvar=True,
    help="The access token to inspect.",
)
@_app_id_option
@_secret_option
@_endpoint_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output as an aligned text table or as JSON.",
)
def advertisers(
    access_token: str,
    app_id: str,
    secret: str,
    api_base_url: str | None,
    sandbox: bool,
    output_format: str,
) -> None:
    """List the advertisers an access token can read.

    Reads /oauth2/advertiser/get/ (which TikTok's sandbox does not offer), then each
    advertiser's name, time zone and currency from /advertiser/info/.
    """
    settings = {"access_token": access_token, "api_base_url": api_base_url, "sandbox": sandbox}
    with reported_errors(access_token, secret):
        tap = build_tap({**settings, "app_id": app_id, "secret": secret})
        found = with_profiles(settings, authorized_advertisers(tap))
    if output_format == "json":
        click.echo(advertiser_json(found))
    elif found:
        click.echo(advertiser_table(found))
    else:
        click.echo("The token can read no advertisers.")


def main(argv: Sequence[str] | None = None) -> None:
    """Run `tap-tiktok-auth`; exits 0 on success, 1 on an API error, 2 on a usage error."""
    # Only warnings (retries) and errors reach stderr.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    cli.main(args=list(argv) if argv is not None else None, prog_name=PROGRAM)


if __name__ == "__main__":
    main()
