"""The TikTok Marketing API tap."""

from __future__ import annotations

import concurrent.futures
import ctypes
import datetime
import functools
import gc
import io
import sys
import typing as t

import click
from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from tap_tiktok_reporting import clock, input_checks
from tap_tiktok_reporting.api.auth import TikTokAuthenticator
from tap_tiktok_reporting.api.connectivity import FirstContact
from tap_tiktok_reporting.api.page_fetcher import PageFetcher
from tap_tiktok_reporting.api.rate_limit import (
    RequestLimiter,
    RequestRateLimiter,
    rate_limited_session,
)
from tap_tiktok_reporting.api.shared_rate_limit import (
    RateLimitStoreError,
    budget_key,
    open_shared_limiter,
)
from tap_tiktok_reporting.entities.advertiser_discovery import RunAdvertisers, resolve_advertisers
from tap_tiktok_reporting.entities.audiences import CustomAudiencesStream
from tap_tiktok_reporting.entities.creatives import CREATIVE_STREAM_TYPES
from tap_tiktok_reporting.entities.streams import ENTITY_STREAM_TYPES, AdvertisersStream
from tap_tiktok_reporting.gmv_max.campaigns import GmvMaxCampaignsStream
from tap_tiktok_reporting.gmv_max.report import GmvMaxCampaignReportStream
from tap_tiktok_reporting.gmv_max.stores import GmvMaxStoresStream, StoreDirectory
from tap_tiktok_reporting.input_checks import InputFileError, InputFileRole
from tap_tiktok_reporting.reports.config import parse_custom_reports
from tap_tiktok_reporting.reports.definitions import BUILTIN_REPORTS, ReportDefinition
from tap_tiktok_reporting.reports.rows import advertiser_time_zone
from tap_tiktok_reporting.reports.stream import ReportStream
from tap_tiktok_reporting.reports.topview import TopViewLookup
from tap_tiktok_reporting.secret_redaction import protect_secrets
from tap_tiktok_reporting.settings import (
    CONFIG_SCHEMA,
    DEFAULT_GMV_MAX_REPORT_REQUESTS_PER_SECOND,
    DEFAULT_MAX_RETRY_SECONDS,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_REQUESTS_IN_FLIGHT,
    DEFAULT_REQUESTS_PER_SECOND,
    api_root,
)
from tap_tiktok_reporting.singer_output import BufferedMsgSpecWriter

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

    from tap_tiktok_reporting.api.run_pipeline import RunPipeline

_GC_YOUNG_THRESHOLD = 50_000
# glibc's mallopt parameter for the number of arenas (malloc.h), and how many the tap uses.
_M_ARENA_MAX = -8
_MALLOC_ARENAS = 2
#: GMV Max (TikTok Shop) streams, after the entity streams in the catalog.
GMV_MAX_STREAM_TYPES = (GmvMaxStoresStream, GmvMaxCampaignsStream, GmvMaxCampaignReportStream)
#: Streams that read the advertisers' profiles (time zones included): asked as a run starts.
NEEDS_PROFILES = (AdvertisersStream, ReportStream, GmvMaxCampaignReportStream)
#: The shared budget of `/gmv_max/report/get/` is named after the run's, with this suffix.
GMV_MAX_BUDGET_SUFFIX = ":gmv_max_report"

#: Every stream of the catalog that is not a report, in catalog order.
CATALOG_ENTITY_TYPES: tuple[type[Stream], ...] = (
    *ENTITY_STREAM_TYPES,
    *CREATIVE_STREAM_TYPES,
    CustomAudiencesStream,
)

# `tap-tiktok --help`, in place of the SDK's stock "Execute the Singer tap.".
CLI_HELP = (
    "Extract advertisers, campaigns, ad groups, ads and performance reports from the TikTok "
    "Marketing API, as Singer messages on stdout.\n\n"
    "Settings come from --config: a JSON file, or ENV for TAP_TIKTOK_* variables; --about lists "
    "them. To get an access token, run tap-tiktok-auth."
)


class TapTikTok(Tap):
    """Singer tap for the TikTok Marketing (Ads) API."""

    name = "tap-tiktok"
    package_name = "tap-tiktok-reporting"
    config_jsonschema = CONFIG_SCHEMA.to_dict()
    message_writer_class = BufferedMsgSpecWriter
    # Custom reports make the catalog depend on config, so the SDK checks config in discovery.
    dynamic_catalog = True

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        # Set first: the SDK's constructor may already build the streams (`discover_streams`).
        self.input_checked = not kwargs.get("validate_config", True)
        self.run_pipeline: RunPipeline | None = None
        super().__init__(*args, **kwargs)
        protect_secrets(self.config)  # before anything can log: redacted at every log level
        self.check_input()  # bad config is refused before any request, also in --discover
        _ = self.report_definitions  # a catalog is made of these, validated or not

    @functools.cached_property
    def report_definitions(self) -> list[ReportDefinition]:
        """Built-in reports and the valid custom ones; any invalid one stops the tap."""
        reserved = [s.name for s in (*CATALOG_ENTITY_TYPES, *GMV_MAX_STREAM_TYPES)]
        reserved += [d.name for d in BUILTIN_REPORTS]
        parsed = parse_custom_reports(self.config.get("reports"), reserved)
        for warning in parsed.warnings:
            self.logger.warning(warning)
        if parsed.errors:
            msg = "invalid custom reports"
            raise ConfigValidationError(msg, errors=parsed.errors)
        return [*BUILTIN_REPORTS, *parsed.definitions]

    def check_input(self) -> None:
        """Once: refuse bad config, naming every problem at once; warn of suspicious input."""
        if self.input_checked:
            return
        self.input_checked = True
        known_settings = self.config_jsonschema.get("properties", {})
        problems = input_checks.config_problems(self.config, known_settings)
        for warning in problems.warnings:
            self.logger.warning(warning)
        errors = list(problems.errors)
        try:
            _ = self.report_definitions
        except ConfigValidationError as exc:
            errors += exc.errors
        if errors:
            msg = "invalid config"
            raise ConfigValidationError(msg, errors=errors)
        if self.input_catalog is not None:
            entity_names = [s.name for s in (*CATALOG_ENTITY_TYPES, *GMV_MAX_STREAM_TYPES)]
            names = entity_names + [d.name for d in self.report_definitions]
            for warning in input_checks.unselectable_stream_warnings(self.input_catalog, names):
                self.logger.warning(warning)

    def discover_streams(self) -> list[Stream]:
        """The catalog's streams; building them makes no request."""
        self.check_input()  # the SDK builds streams within its constructor, before ours checks
        entities: list[Stream] = [stream_type(self) for stream_type in CATALOG_ENTITY_TYPES]
        gmv_max: list[Stream] = [stream_type(self) for stream_type in GMV_MAX_STREAM_TYPES]
        return entities + gmv_max + [ReportStream(self, d) for d in self.report_definitions]

    @functools.cached_property
    def advertiser_profiles_request(self) -> concurrent.futures.Future[list[dict[str, t.Any]]]:
        """`/advertiser/info/` of every advertiser in the run, asked once, on the request pool."""
        return self.page_fetcher.call(lambda: list(AdvertisersStream(self).fetch_profiles()))

    @functools.cached_property
    def advertiser_profiles(self) -> dict[str, dict[str, t.Any]]:
        """`/advertiser/info/` of every advertiser in the run, by id."""
        rows = self.advertiser_profiles_request.result()
        return {str(row["advertiser_id"]): row for row in rows}

    @functools.cached_property
    def advertiser_time_zones(self) -> dict[str, datetime.tzinfo]:
        """Each advertiser's own time zone, which TikTok's report dates are in (UTC if unknown)."""
        zones: dict[str, datetime.tzinfo] = {}
        for advertiser_id in self.advertiser_ids:
            profile = self.advertiser_profiles.get(advertiser_id, {})
            zone = advertiser_time_zone(profile)
            if zone is None:
                self.logger.warning(
                    "Advertiser %s has no known time zone (%r); using UTC for its report dates",
                    advertiser_id,
                    profile.get("display_timezone") or profile.get("timezone"),
                )
                zone = datetime.timezone.utc
            zones[advertiser_id] = zone
        # Only now are the advertisers' dates known; this runs once per run.
        todays = {a: clock.utc_now().astimezone(zone).date() for a, zone in zones.items()}
        if warning := input_checks.start_date_after_today_warning(self.config, todays):
            self.logger.warning(warning)
        return zones

    @functools.cached_property
    def topview_lookup(self) -> TopViewLookup:
        """Which advertisers have TopView campaigns: asked once, as soon as the run starts."""
        return TopViewLookup(self, self.advertiser_ids)

    def advertiser_today(self, advertiser_id: str) -> datetime.date:
        """Today's date where the advertiser is: the last date TikTok can report for it."""
        return clock.utc_now().astimezone(self.advertiser_time_zones[advertiser_id]).date()

    @functools.cached_property
    def rate_limiter(self) -> RequestLimiter:
        """The run's one limiter, shared by every request (token refreshes included).

        With `rate_limit_store`, the budget is shared with every process using the same store
        and key; a store that cannot hold it stops the run before its first request.
        """
        rate = float(self.config.get("max_requests_per_second", DEFAULT_REQUESTS_PER_SECOND))
        return self._limiter(rate, "", "Request budget")

    @functools.cached_property
    def gmv_max_rate_limiter(self) -> RequestLimiter:
        """The limit of `/gmv_max/report/get/`'s own QPS tier, taken after `rate_limiter`.

        With `rate_limit_store`, shared like the run's budget, under its key plus
        `:gmv_max_report`.
        """
        rate = float(
            self.config.get(
                "gmv_max_requests_per_second", DEFAULT_GMV_MAX_REPORT_REQUESTS_PER_SECOND
            )
        )
        return self._limiter(rate, GMV_MAX_BUDGET_SUFFIX, "GMV Max report budget")

    def _limiter(self, rate: float, key_suffix: str, label: str) -> RequestLimiter:
        """An in-process limiter at `rate`, or with `rate_limit_store` a shared budget."""
        store = str(self.config.get("rate_limit_store") or "").strip()
        if not store:
            return RequestRateLimiter(rate)
        limiter = open_shared_limiter(store, budget_key(self.config) + key_suffix, rate)
        self.logger.info(
            "%s: %g requests per second in total for every job using %s with key %r",
            label,
            rate,
            limiter.store.shown,
            limiter.key,
        )
        return limiter

    @functools.cached_property
    def gmv_max_stores(self) -> StoreDirectory:
        """Every advertiser's GMV Max stores, fetched once for the run."""
        return StoreDirectory(self)

    @functools.cached_property
    def page_fetcher(self) -> PageFetcher:
        """The run's one pool of requests in flight, shared by every stream."""
        return PageFetcher(
            int(self.config.get("max_requests_in_flight", DEFAULT_REQUESTS_IN_FLIGHT))
        )

    @functools.cached_property
    def first_contact(self) -> FirstContact:
        """Whether the run has reached the API yet: until then, connection failures fail fast."""
        return FirstContact()

    @functools.cached_property
    def authenticator(self) -> TikTokAuthenticator:
        """The run's one authenticator, so a refreshed token reaches every stream."""
        return TikTokAuthenticator(
            access_token=self.config.get("access_token"),
            refresh_token=self.config.get("refresh_token"),
            app_id=self.config.get("app_id"),
            secret=self.config.get("secret"),
            api_root=api_root(self.config),
            session=rate_limited_session(self.rate_limiter, self.first_contact),
            timeout=float(self.config.get("request_timeout", DEFAULT_REQUEST_TIMEOUT)),
            first_contact=self.first_contact,
            max_retry_seconds=float(
                self.config.get("max_retry_seconds", DEFAULT_MAX_RETRY_SECONDS)
            ),
        )

    @functools.cached_property
    def run_advertisers(self) -> RunAdvertisers:
        """The advertisers this run extracts and where they were found, resolved once."""
        return resolve_advertisers(self)

    @functools.cached_property
    def advertiser_ids(self) -> list[str]:
        """The advertisers this run extracts, discovered once if not configured."""
        return list(self.run_advertisers.ids)

    def check_credentials(self) -> None:
        """Refuse to sync without a way to authenticate, before any request."""
        config = self.config
        refreshable = all(config.get(k) for k in ("refresh_token", "app_id", "secret"))
        if not config.get("access_token") and not refreshable:
            msg = "no credentials"
            raise ConfigValidationError(
                msg,
                errors=[
                    "Set access_token, or refresh_token together with app_id and secret, "
                    "so the tap can authenticate"
                ],
            )

    def streams_in_sync_order(self) -> list[Stream]:
        """The streams `sync_all` syncs, in its order (the SDK's rule: selected, not children)."""
        return [
            stream
            for stream in self.streams.values()
            if (stream.selected or stream.has_selected_descendents)
            and not stream.parent_stream_type
        ]

    def sync_all(self) -> None:
        """Check credentials and resolve advertisers first, then sync every selected stream."""
        self.check_credentials()
        _ = self.rate_limiter  # a shared budget's store is checked before the first request
        try:
            selected = self.streams_in_sync_order()
            if any(s.name == GmvMaxCampaignReportStream.name for s in selected):
                _ = self.gmv_max_rate_limiter  # its store too
            _ = self.advertiser_ids
            # Asked now, together, and answered while the run starts.
            if any(isinstance(s, NEEDS_PROFILES) for s in selected):
                _ = self.advertiser_profiles_request
            if any(isinstance(s, ReportStream) and s.reads_topview for s in selected):
                _ = self.topview_lookup
            super().sync_all()
        finally:
            if "page_fetcher" in self.__dict__:
                self.page_fetcher.close()
            self.rate_limiter.close()
            if "gmv_max_rate_limiter" in self.__dict__:
                self.gmv_max_rate_limiter.close()

    def run_connection_test(self) -> bool:
        """The SDK's `--test`, with a shared budget's store checked before the first request."""
        _ = self.rate_limiter
        try:
            return super().run_connection_test()
        finally:
            self.rate_limiter.close()

    @classmethod
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, whose `--help` describes this tap."""
        command = super().get_singer_command()
        command.help = CLI_HELP
        for param in command.params:
            # Paths rather than click files: `invoke` reads them, so a missing or broken file
            # gets one clear line instead of click's usage text.
            if param.name in {"state", "catalog"}:
                param.type = click.Path()
        return command

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> t.Any:
        """The SDK's parsing of --config, after refusing a missing or non-JSON file in one line."""
        try:
            for path in value:
                if path != "ENV":
                    input_checks.load_input_file(path, "config")
        except InputFileError as exc:
            cls.log_refusal(exc)
            ctx.exit(1)
        return super().cb_config(ctx, param, value)

    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """The SDK's --test, with bad config refused as the sync refuses it."""
        try:
            super().cb_test(ctx, param, value)
        except ConfigValidationError as exc:
            cls.log_refusal(exc)
            ctx.exit(1)

    @classmethod
    def log_refusal(cls, exc: ConfigValidationError | InputFileError) -> None:
        """One error line per problem, worded as the SDK words config errors in discovery."""
        if isinstance(exc, (InputFileError, RateLimitStoreError)):
            cls.logger.error("%s", exc)
            return
        for error in exc.errors or [str(exc)]:
            cls.logger.error("Config validation error: %s", error)

    @staticmethod
    def checked_input_file(path: str | None, role: InputFileRole) -> io.StringIO | None:
        """A --state or --catalog file as the SDK reads it, once known to be usable."""
        return None if path is None else io.StringIO(input_checks.load_input_file(path, role))

    @classmethod
    def invoke(  # type: ignore[override]
        cls, *args: t.Any, state: str | None = None, catalog: str | None = None, **kwargs: t.Any
    ) -> None:
        """Run the sync; bad input or a TikTok error ends it with one line and exit code 1."""
        tune_garbage_collection()
        limit_malloc_arenas()
        try:
            super().invoke(
                *args,
                state=cls.checked_input_file(state, "state"),
                catalog=cls.checked_input_file(catalog, "catalog"),
                **kwargs,
            )
        except (ConfigValidationError, InputFileError) as exc:
            cls.log_refusal(exc)
            sys.exit(1)
        except FatalAPIError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)
        except RetriableAPIError as exc:
            cls.logger.error("%s (gave up after retrying)", exc)
            sys.exit(1)


def tune_garbage_collection() -> None:
    """Collect less often: every row makes dicts, and the record path makes no cycles.

    Objects from start-up are frozen out of collections, and the youngest generation is
    collected every 50,000 allocations instead of 700 (measured: about 5 µs less per row).
    """
    gc.freeze()
    gc.set_threshold(_GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def limit_malloc_arenas() -> None:
    """Two malloc arenas for the process instead of one per request thread (glibc only).

    glibc gives threads arenas of their own and keeps the memory they once held, so the
    request threads' arenas each keep a few decoded pages' worth. Measured on 341k rows:
    198 MB peak RSS with one arena per thread, about 170 MB with two; no CPU cost seen.
    Elsewhere (musl, macOS) this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_ARENA_MAX, _MALLOC_ARENAS)


if __name__ == "__main__":
    TapTikTok.cli()
