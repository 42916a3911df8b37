"""The TikTok Marketing API tap."""

from __future__ import annotations

import functools
import sys
import typing as t

from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from tap_tiktok_reporting.advertiser_discovery import resolve_advertiser_ids
from tap_tiktok_reporting.auth import TikTokAuthenticator
from tap_tiktok_reporting.entity_streams import ENTITY_STREAM_TYPES
from tap_tiktok_reporting.rate_limit import RequestRateLimiter, rate_limited_session
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

    def discover_streams(self) -> list[Stream]:
        """The catalog's streams; building them makes no request."""
        return [stream_type(self) for stream_type in ENTITY_STREAM_TYPES]

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
