"""Custom audiences: `/dmp/custom_audience/list/`, completed by `/dmp/custom_audience/get/`.

The list pages by at most 100 and names each audience (owned and shared ones); the details the
list may lack (validity, expiry, size, lookalike spec, change history) come from the get, asked
for 100 audiences at a time, TikTok's limit. Neither endpoint filters on modification time, so
the stream is full table.
"""

from __future__ import annotations

import itertools
import typing as t

from singer_sdk import typing as th

from tap_tiktok_reporting.api.client import (
    TikTokStream,
    tiktok_body,
)
from tap_tiktok_reporting.conversions import convert_record, id_string, id_strings, utc_timestamp
from tap_tiktok_reporting.entities.advertiser_lists import AdvertiserListStream
from tap_tiktok_reporting.entities.schemas import schema_of

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

#: TikTok's largest page for the list.
AUDIENCE_LIST_MAX_PAGE_SIZE = 100
#: The most audiences one `/dmp/custom_audience/get/` request may name.
AUDIENCE_DETAILS_BATCH = 100
#: Added by the tap: another advertiser shared the audience with this one.
IS_SHARED_IN = "is_shared_in"
_LOOKALIKE_CONVERTERS = {"source_audience_id": id_string, "location_ids": id_strings}

_TEXT = th.StringType()
_FLAG = th.BooleanType()
_TIMESTAMP = th.DateTimeType()
_TEXTS = th.ArrayType(th.StringType())

LOOKALIKE_SPEC = th.ObjectType(
    th.Property("source_audience_id", _TEXT),
    th.Property("include_source", _FLAG),
    th.Property("audience_size", _TEXT),
    th.Property("mobile_os", _TEXT),
    th.Property("placements", _TEXTS),
    th.Property("location_ids", _TEXTS),
)
AUDIENCE_HISTORY = th.ArrayType(
    th.ObjectType(
        th.Property("action", _TEXT),
        th.Property("action_detail", _TEXT),
        th.Property("editor", _TEXT),
        th.Property("msg", _TEXT),
        th.Property("opt_time", _TIMESTAMP),
    )
)
AUDIENCE_FIELDS: dict[str, th.JSONTypeHelper] = {
    "advertiser_id": _TEXT,
    "audience_id": _TEXT,
    "name": _TEXT,
    "audience_type": _TEXT,
    "audience_sub_type": _TEXT,
    "calculate_type": _TEXT,
    "cover_num": th.IntegerType(),
    "shared": _FLAG,
    "is_creator": _FLAG,
    IS_SHARED_IN: _FLAG,
    "owner_id": _TEXT,
    "is_valid": _FLAG,
    "is_expiring": _FLAG,
    "is_auto_refresh": _FLAG,
    "audience_enhancement": _FLAG,
    "enhancement_status": _TEXT,
    "rule": _TEXT,
    "lookalike_spec": LOOKALIKE_SPEC,
    "msg": _TEXT,
    "error_msg": _TEXT,
    "create_time": _TIMESTAMP,
    "expired_time": _TIMESTAMP,
    "audience_history": AUDIENCE_HISTORY,
}


class AudienceDetailsStream(TikTokStream):
    """`/dmp/custom_audience/get/`: details of up to 100 audiences (not in the catalog)."""

    name = "_custom_audience_details"
    path = "dmp/custom_audience/get/"
    primary_keys = ("audience_id",)
    paginated = False
    schema = schema_of(AUDIENCE_FIELDS)

    def request_params(self, context: Context | None) -> dict[str, t.Any]:
        """The advertiser and the batch of audience ids."""
        context = context or {}
        return {
            "advertiser_id": context["advertiser_id"],
            "custom_audience_ids": list(context["custom_audience_ids"]),
        }

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Each audience's details with its change history."""
        for entry in (tiktok_body(response).get("data") or {}).get("list") or []:
            details = dict(entry.get("audience_details") or {})
            # The get names the type `type` where the list says `audience_type`.
            if "type" in details:
                details.setdefault("audience_type", details.pop("type"))
            details["audience_history"] = entry.get("audience_history")
            yield details


class CustomAudiencesStream(AdvertiserListStream):
    """Each advertiser's custom audiences, owned and shared, with their details (full table)."""

    name = "custom_audiences"
    path = "dmp/custom_audience/list/"
    primary_keys = ("audience_id", "advertiser_id")
    max_page_size = AUDIENCE_LIST_MAX_PAGE_SIZE
    schema = schema_of(AUDIENCE_FIELDS, required=["audience_id", "advertiser_id"])

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Every listed audience, completed with its details, 100 audiences per get request."""
        advertiser_id = str((context or {})["advertiser_id"])
        listed: list[dict[str, t.Any]] = []
        for _listing, pages in self.fetched_listings(dict(context or {})):
            listed += self.unique_rows(itertools.chain.from_iterable(pages), set())
        details = self.details_of(advertiser_id, [str(row["audience_id"]) for row in listed])
        without_details = 0
        for row in listed:
            found = details.get(str(row["audience_id"]))
            if found is None:
                without_details += 1
            yield self.record(advertiser_id, row, found or {})
        if without_details:
            self.logger.warning(
                "%d custom audiences of advertiser %s were listed but have no details in "
                "/dmp/custom_audience/get/ (deleted since?); they carry the list's fields only",
                without_details,
                advertiser_id,
            )

    def details_of(self, advertiser_id: str, audience_ids: list[str]) -> dict[str, dict]:
        """The get's details of `audience_ids`, by id, fetched ahead in batches of 100."""
        ids = iter(dict.fromkeys(audience_ids))
        contexts = [
            {"advertiser_id": advertiser_id, "custom_audience_ids": batch}
            for batch in iter(lambda: list(itertools.islice(ids, AUDIENCE_DETAILS_BATCH)), [])
        ]
        stream = AudienceDetailsStream(self.tiktok_tap)
        found: dict[str, dict] = {}
        for _context, pages in self.tiktok_tap.page_fetcher.listings(stream.fetch_page, contexts):
            for row in itertools.chain.from_iterable(pages):
                if row.get("audience_id") is not None:
                    found[str(row["audience_id"])] = row
        return found

    def record(
        self, advertiser_id: str, listed: dict[str, t.Any], details: dict[str, t.Any]
    ) -> dict[str, t.Any]:
        """The list's row completed by the get's details (which are newer), typed."""
        record = {**listed, **{k: v for k, v in details.items() if v is not None}}
        record["advertiser_id"] = advertiser_id
        record[IS_SHARED_IN] = shared_in(record, advertiser_id)
        if isinstance(spec := record.get("lookalike_spec"), dict):
            record["lookalike_spec"] = convert_record(dict(spec), _LOOKALIKE_CONVERTERS)
        if isinstance(history := record.get("audience_history"), list):
            record["audience_history"] = [
                {**change, "opt_time": utc_timestamp(change.get("opt_time"))}
                if isinstance(change, dict)
                else change
                for change in history
            ]
        return convert_record(record, self.converters)


def shared_in(audience: dict[str, t.Any], advertiser_id: str) -> bool | None:
    """Whether another advertiser shared the audience with this one (None: cannot tell).

    TikTok marks an audience shared both ways (`shared`); `is_creator` false, or an owner other
    than this advertiser, means it was shared in.
    """
    is_creator = audience.get("is_creator")
    if isinstance(is_creator, bool):
        return not is_creator
    owner = audience.get("owner_id")
    return None if owner in (None, "") else str(owner) != advertiser_id
