"""Business Centers (BC): the ones the token's user belongs to, and the advertisers each holds.

Agencies reach most of their advertisers through BCs; `/oauth2/advertiser/get/` lists only
those authorized to the app. Both BC endpoints page by at most 50.
"""

from __future__ import annotations

import dataclasses
import itertools
import typing as t

from singer_sdk import typing as th

from tap_tiktok_reporting.api.client import TikTokStream, tiktok_body
from tap_tiktok_reporting.api.errors import TikTokAPIError
from tap_tiktok_reporting.entities.schemas import schema_of

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk.helpers.types import Context

    from tap_tiktok_reporting.tap import TapTikTok

#: TikTok's largest page for `/bc/get/` and `/bc/asset/get/`.
BUSINESS_CENTER_PAGE_SIZE = 50
# Answers meaning the token's user cannot read the BC (no permission, no such object, or
# TikTok's parameter error, which it also gives for resources out of reach).
_NO_ACCESS_CODES = frozenset({40001, 40002, 40007, 40106})


class BusinessCentersStream(TikTokStream):
    """`/bc/get/`: the Business Centers the token's user belongs to (not in the catalog)."""

    name = "_business_centers"
    path = "bc/get/"
    primary_keys = ("bc_id",)
    schema = schema_of({"bc_id": th.StringType(), "name": th.StringType()})

    def page_size_for(self, context: Context | None) -> int:
        """TikTok's maximum for this endpoint."""
        return BUSINESS_CENTER_PAGE_SIZE

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Each entry's `bc_info`, which holds the BC's id and name."""
        for entry in (tiktok_body(response).get("data") or {}).get("list") or []:
            yield dict(entry.get("bc_info") or {})


class BusinessCenterAdvertisersStream(TikTokStream):
    """`/bc/asset/get/` with `asset_type=ADVERTISER`: one BC's advertisers (not in the catalog)."""

    name = "_business_center_advertisers"
    path = "bc/asset/get/"
    primary_keys = ("asset_id",)
    schema = schema_of({"asset_id": th.StringType(), "asset_name": th.StringType()})

    def page_size_for(self, context: Context | None) -> int:
        """TikTok's maximum for this endpoint."""
        return BUSINESS_CENTER_PAGE_SIZE

    def request_params(self, context: Context | None) -> dict[str, t.Any]:
        """The BC, and the one asset type the tap reads."""
        return {"bc_id": (context or {})["bc_id"], "asset_type": "ADVERTISER"}


def _listing_rows(
    tap: TapTikTok, stream: TikTokStream, contexts: Iterable[Context]
) -> t.Iterator[tuple[Context, t.Iterator[dict[str, t.Any]]]]:
    """Each listing's context with its rows (every page, each key once), fetched ahead."""
    for context, pages in tap.page_fetcher.listings(stream.fetch_page, contexts):
        yield context, stream.unique_rows(itertools.chain.from_iterable(pages), set())


def visible_business_center_ids(tap: TapTikTok) -> list[str]:
    """Every Business Center the token's user belongs to, in TikTok's order."""
    stream = BusinessCentersStream(tap)
    ids: list[str] = []
    for _context, rows in _listing_rows(tap, stream, [{}]):
        ids += [str(row["bc_id"]) for row in rows if row.get("bc_id")]
    return list(dict.fromkeys(ids))


def business_center_advertiser_ids(
    tap: TapTikTok, business_center_ids: Iterable[str]
) -> dict[str, list[str]]:
    """Each Business Center's advertisers, in TikTok's order; an unreadable BC stops the run."""
    contexts = [{"bc_id": bc_id} for bc_id in business_center_ids]
    found: dict[str, list[str]] = {}
    if not contexts:
        return found
    stream = BusinessCenterAdvertisersStream(tap)
    for context, rows in _listing_rows(tap, stream, contexts):
        bc_id = str(context["bc_id"])
        try:
            found[bc_id] = [str(row["asset_id"]) for row in rows if row.get("asset_id")]
        except TikTokAPIError as exc:
            raise naming_business_center(exc, bc_id) from None
    return found


def naming_business_center(error: TikTokAPIError, bc_id: str) -> TikTokAPIError:
    """The same refusal, said to be about Business Center `bc_id`."""
    details = error.details
    hint = details.hint
    if details.code in _NO_ACCESS_CODES:
        hint = (
            f"the token cannot read Business Center {bc_id}: check business_center_ids, and "
            "that the token's user is a member of that Business Center"
        )
    where = f"{details.endpoint} (Business Center {bc_id})"
    return TikTokAPIError(dataclasses.replace(details, endpoint=where, hint=hint))
