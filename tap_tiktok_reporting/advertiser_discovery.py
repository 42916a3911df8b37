"""Which advertisers a run extracts: the configured list, or every one the token may read."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_tiktok_reporting.client import TikTokStream
from tap_tiktok_reporting.entity_schemas import schema_of

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_tiktok_reporting.tap import TapTikTok


class AuthorizedAdvertisersStream(TikTokStream):
    """`/oauth2/advertiser/get/`: the advertisers the token may read (not in the catalog)."""

    name = "_authorized_advertisers"
    path = "oauth2/advertiser/get/"
    primary_keys = ("advertiser_id",)
    paginated = False
    schema = schema_of({"advertiser_id": th.StringType(), "advertiser_name": th.StringType()})

    def request_params(self, context: Context | None) -> dict[str, t.Any]:
        """The app credentials the endpoint asks for."""
        return {"app_id": self.config["app_id"], "secret": self.config["secret"]}


def configured_advertiser_ids(config: t.Mapping[str, t.Any]) -> list[str]:
    """The `advertiser_ids` setting, cleaned: strings, stripped, without repeats, in order."""
    cleaned = (str(value).strip() for value in config.get("advertiser_ids") or [])
    return list(dict.fromkeys(value for value in cleaned if value))


def resolve_advertiser_ids(tap: TapTikTok) -> list[str]:
    """The configured advertisers, or those discovered through the token when none are set."""
    config = tap.config
    if ids := configured_advertiser_ids(config):
        return ids
    if config.get("sandbox"):
        msg = "advertiser_ids is empty"
        raise ConfigValidationError(
            msg,
            errors=[
                "advertiser_ids is empty and TikTok's sandbox cannot list advertisers: "
                "set advertiser_ids to your sandbox advertiser's id"
            ],
        )
    missing = [name for name in ("app_id", "secret") if not config.get(name)]
    if missing:
        msg = "advertiser_ids is empty"
        raise ConfigValidationError(
            msg,
            errors=[
                "advertiser_ids is empty, so the tap discovers advertisers through "
                f"/oauth2/advertiser/get/, which needs app_id and secret: "
                f"set {' and '.join(missing)}, "
                "or list advertiser_ids"
            ],
        )
    ids = [
        str(row["advertiser_id"]) for row in AuthorizedAdvertisersStream(tap).request_records(None)
    ]
    ids = list(dict.fromkeys(ids))
    tap.logger.info("Discovered %d advertisers authorized for the access token", len(ids))
    return ids
