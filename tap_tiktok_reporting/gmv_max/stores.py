"""GMV Max stores: the `gmv_max_stores` stream and the run's one store list per advertiser.

The campaign stream and the report read each advertiser's stores from `StoreDirectory`, so
`/gmv_max/store/list/` is asked once per advertiser and run, whichever streams are selected.
"""

from __future__ import annotations

import functools
import itertools
import typing as t

from tap_tiktok_reporting.api.client import AdvertiserPartitionedStream, tiktok_body
from tap_tiktok_reporting.conversions import Converter, convert_record, converters_for
from tap_tiktok_reporting.entities.schemas import schema_of
from tap_tiktok_reporting.gmv_max.rules import STORE_FIELDS, STORE_LIST_PATH

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

    from tap_tiktok_reporting.tap import TapTikTok


def is_reportable(store: t.Mapping[str, t.Any], advertiser_id: str) -> bool:
    """Whether the advertiser may run and report GMV Max on the store.

    TikTok authorizes one ad account per store for GMV Max: the store list names it in
    `exclusive_authorized_advertiser_info` and says `is_gmv_max_available` only to it.
    """
    exclusive = store.get("exclusive_authorized_advertiser_info") or {}
    return bool(store.get("is_gmv_max_available")) and (
        str(exclusive.get("advertiser_id") or "") == advertiser_id
    )


class GmvMaxStoresStream(AdvertiserPartitionedStream):
    """The TikTok Shop stores each advertiser sees, from `/gmv_max/store/list/` (full table)."""

    name = "gmv_max_stores"
    path = STORE_LIST_PATH
    primary_keys = ("advertiser_id", "store_id")
    replication_key = None
    paginated = False  # the store list has no pages
    schema = schema_of(STORE_FIELDS, required=["advertiser_id", "store_id"])

    @functools.cached_property
    def converters(self) -> dict[str, Converter]:
        """Id converters read off the schema."""
        return converters_for(self.schema)

    def request_params(self, context: Context | None) -> dict[str, t.Any]:
        """The advertiser."""
        return {"advertiser_id": (context or {})["advertiser_id"]}

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Rows of `data.store_list`."""
        yield from (tiktok_body(response).get("data") or {}).get("store_list") or []

    def page_rows(self, response: requests.Response, context: Context) -> list[dict[str, t.Any]]:
        """The stores, each with its advertiser and whether the advertiser may report on it."""
        advertiser_id = str(context["advertiser_id"])
        rows = []
        for row in self.parse_response(response):
            record = convert_record({**row, "advertiser_id": advertiser_id}, self.converters)
            record["is_reportable"] = is_reportable(record, advertiser_id)
            rows.append(record)
        return rows

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The advertiser's stores, from the run's store directory."""
        yield from self.tiktok_tap.gmv_max_stores.stores(str((context or {})["advertiser_id"]))


class StoreDirectory:
    """Every advertiser's stores, fetched once for the run (all advertisers together)."""

    def __init__(self, tap: TapTikTok) -> None:
        self._tap = tap
        self._stores: dict[str, list[dict[str, t.Any]]] | None = None

    def _load(self) -> dict[str, list[dict[str, t.Any]]]:
        tap = self._tap
        stream = GmvMaxStoresStream(tap)
        contexts = [{"advertiser_id": a} for a in tap.advertiser_ids]
        stores: dict[str, list[dict[str, t.Any]]] = {}
        for context, pages in tap.page_fetcher.listings(stream.fetch_page, contexts):
            rows = stream.unique_rows(itertools.chain.from_iterable(pages), set())
            stores[str(context["advertiser_id"])] = list(rows)
        return stores

    def stores(self, advertiser_id: str) -> list[dict[str, t.Any]]:
        """The advertiser's stores, as `gmv_max_stores` emits them (copies)."""
        if self._stores is None:
            self._stores = self._load()
        return [dict(store) for store in self._stores.get(advertiser_id, [])]

    def reportable_store_ids(self, advertiser_id: str) -> list[str]:
        """The stores the advertiser may report on, in TikTok's order."""
        return [s["store_id"] for s in self.stores(advertiser_id) if s["is_reportable"]]
