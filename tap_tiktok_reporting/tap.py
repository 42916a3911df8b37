"""The TikTok Marketing API tap."""

from __future__ import annotations

import datetime
import functools
import sys
import typing as t

from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from tap_tiktok_reporting import clock
from tap_tiktok_reporting.advertiser_discovery import resolve_advertiser_ids
from tap_tiktok_reporting.auth import TikTokAuthenticator
from tap_tiktok_reporting.entity_streams import ENTITY_STREAM_TYPES, AdvertisersStream
from tap_tiktok_reporting.rate_limit import RequestRateLimiter, rate_limited_session
from tap_tiktok_reporting.report_config import parse_custom_reports
from tap_tiktok_reporting.report_definitions import BUILTIN_REPORTS, ReportDefinition
from tap_tiktok_reporting.report_rows import advertiser_time_zone
from tap_tiktok_reporting.report_stream import ReportStream
from tap_tiktok_reporting.settings import (
    CONFIG_SCHEMA,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_REQUESTS_PER_SECOND,
    api_root,
)

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class TapTikTok(Tap):
    """Singer tap for the TikTok Marketing (Ads) API."""

    name = "tap-tiktok"
    package_name = "tap-tiktok-reporting"
    config_jsonschema = CONFIG_SCHEMA.to_dict()
    message_writer_class = MsgSpecWriter
    # Custom reports make the catalog depend on config, so the SDK checks config in discovery.
    dynamic_catalog = True

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        _ = self.report_definitions  # refuse bad custom reports up front, also in --discover

    @functools.cached_property
    def report_definitions(self) -> list[ReportDefinition]:
        """Built-in reports and the valid custom ones; any invalid one stops the tap."""
        reserved = [s.name for s in ENTITY_STREAM_TYPES] + [d.name for d in BUILTIN_REPORTS]
        parsed = parse_custom_reports(self.config.get("reports"), reserved)
        for warning in parsed.warnings:
            self.logger.warning(warning)
        if parsed.errors:
            msg = "invalid custom reports"
            raise ConfigValidationError(msg, errors=parsed.errors)
        return [*BUILTIN_REPORTS, *parsed.definitions]

    def discover_streams(self) -> list[Stream]:
        """The catalog's streams; building them makes no request."""
        entities: list[Stream] = [stream_type(self) for stream_type in ENTITY_STREAM_TYPES]
        return entities + [ReportStream(self, d) for d in self.report_definitions]

    @functools.cached_property
    def advertiser_profiles(self) -> dict[str, dict[str, t.Any]]:
        """`/advertiser/info/` of every advertiser in the run, fetched once, by id."""
        rows = AdvertisersStream(self).fetch_profiles()
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
        return zones

    def advertiser_today(self, advertiser_id: str) -> datetime.date:
        """Today's date where the advertiser is: the last date TikTok can report for it."""
        return clock.utc_now().astimezone(self.advertiser_time_zones[advertiser_id]).date()

    @functools.cached_property
    def rate_limiter(self) -> RequestRateLimiter:
        """The run's one limiter, shared by every request (token refreshes included)."""
        rate = float(self.config.get("max_requests_per_second", DEFAULT_REQUESTS_PER_SECOND))
        return RequestRateLimiter(rate)

    @functools.cached_property
    def authenticator(self) -> TikTokAuthenticator:
        """The run's one authenticator, so a refreshed token reaches every stream."""
        return TikTokAuthenticator(
            access_token=self.config.get("access_token"),
            refresh_token=self.config.get("refresh_token"),
            app_id=self.config.get("app_id"),
            secret=self.config.get("secret"),
            api_root=api_root(self.config),
            session=rate_limited_session(self.rate_limiter),
            timeout=float(self.config.get("request_timeout", DEFAULT_REQUEST_TIMEOUT)),
        )

    @functools.cached_property
    def advertiser_ids(self) -> list[str]:
        """The advertisers this run extracts, discovered once if not configured."""
        return resolve_advertiser_ids(self)

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

    def sync_all(self) -> None:
        """Check credentials and resolve advertisers first, then sync every selected stream."""
        self.check_credentials()
        _ = self.advertiser_ids
        super().sync_all()

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        """Run the sync; a TikTok error ends it with one line and exit code 1, no traceback."""
        try:
            super().invoke(*args, **kwargs)
        except FatalAPIError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)
        except RetriableAPIError as exc:
            cls.logger.error("%s (gave up after retrying)", exc)
            sys.exit(1)


if __name__ == "__main__":
    TapTikTok.cli()
