"""Which advertisers a run extracts: those listed, those of Business Centers, those authorized."""

from __future__ import annotations

import dataclasses
import typing as t

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_tiktok_reporting.api.client import TikTokStream
from tap_tiktok_reporting.entities.business_centers import (
    business_center_advertiser_ids,
    visible_business_center_ids,
)
from tap_tiktok_reporting.entities.schemas import schema_of

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


@dataclasses.dataclass(frozen=True)
class RunAdvertisers:
    """The advertisers a run extracts, in order, and the Business Center each was found in."""

    ids: tuple[str, ...]
    #: Advertiser id to the id of the first Business Center that holds it, for those a BC holds.
    business_centers: t.Mapping[str, str] = dataclasses.field(default_factory=dict)


def configured_ids(config: t.Mapping[str, t.Any], setting: str) -> list[str]:
    """An id list setting, cleaned: strings, stripped, without repeats, in order."""
    cleaned = (str(value).strip() for value in config.get(setting) or [])
    return list(dict.fromkeys(value for value in cleaned if value))


def configured_advertiser_ids(config: t.Mapping[str, t.Any]) -> list[str]:
    """The `advertiser_ids` setting, cleaned: strings, stripped, without repeats, in order."""
    return configured_ids(config, "advertiser_ids")


def _authorized_discovery_problem(config: t.Mapping[str, t.Any]) -> str | None:
    """Why `/oauth2/advertiser/get/` cannot be asked with this config, if it cannot."""
    alternatives = "business_center_ids, or set discover_business_centers to true"
    if config.get("sandbox"):
        return (
            "advertiser_ids is empty and TikTok's sandbox cannot list advertisers: "
            f"set advertiser_ids to your sandbox advertiser's id, or list {alternatives}"
        )
    missing = [name for name in ("app_id", "secret") if not config.get(name)]
    if missing:
        return (
            "advertiser_ids and business_center_ids are empty, so the tap discovers "
            "advertisers through /oauth2/advertiser/get/, which needs app_id and secret: "
            f"set {' and '.join(missing)}, or list advertiser_ids or {alternatives}"
        )
    return None


def _authorized_advertiser_ids(tap: TapTikTok) -> list[str]:
    """Every advertiser authorized for the token, from `/oauth2/advertiser/get/`."""
    rows = AuthorizedAdvertisersStream(tap).request_records(None)
    ids = list(dict.fromkeys(str(row["advertiser_id"]) for row in rows))
    tap.logger.info("Discovered %d advertisers authorized for the access token", len(ids))
    return ids


def _business_center_ids(tap: TapTikTok) -> list[str]:
    """The configured Business Centers, then every other one the token's user belongs to."""
    bc_ids = configured_ids(tap.config, "business_center_ids")
    if tap.config.get("discover_business_centers"):
        visible = visible_business_center_ids(tap)
        tap.logger.info("Discovered %d Business Centers of the token's user", len(visible))
        bc_ids = list(dict.fromkeys(bc_ids + visible))
    return bc_ids


def resolve_advertisers(tap: TapTikTok) -> RunAdvertisers:
    """The run's advertisers: configured, of Business Centers, and (if none is listed) authorized.

    `advertiser_ids` and `business_center_ids` are taken as they are. When both are empty, every
    advertiser authorized for the token is discovered too (with `discover_business_centers`,
    only if app_id and secret allow it). The order is that one, each advertiser once.
    """
    config = tap.config
    configured = configured_advertiser_ids(config)
    discover_authorized = not configured and not configured_ids(config, "business_center_ids")
    if discover_authorized and (problem := _authorized_discovery_problem(config)):
        if not config.get("discover_business_centers"):
            msg = "advertiser_ids is empty"
            raise ConfigValidationError(msg, errors=[problem])
        tap.logger.info(
            "Only Business Centers' advertisers are discovered: /oauth2/advertiser/get/ "
            "cannot be asked (%s)",
            "sandbox" if config.get("sandbox") else "app_id and secret are needed",
        )
        discover_authorized = False

    ids = dict.fromkeys(configured)
    business_centers: dict[str, str] = {}
    for bc_id, advertiser_ids in business_center_advertiser_ids(
        tap, _business_center_ids(tap)
    ).items():
        if advertiser_ids:
            tap.logger.info("Business Center %s holds %d advertisers", bc_id, len(advertiser_ids))
        else:
            tap.logger.warning("Business Center %s holds no advertisers", bc_id)
        for advertiser_id in advertiser_ids:
            ids.setdefault(advertiser_id)
            business_centers.setdefault(advertiser_id, bc_id)
    if discover_authorized:
        ids.update(dict.fromkeys(_authorized_advertiser_ids(tap)))
    return RunAdvertisers(ids=tuple(ids), business_centers=business_centers)
