"""/campaign/get/, /adgroup/get/ and /ad/get/: filtering, field selection, ordering and paging."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .advertisers import requested_fields, require_access
from .dataset import (
    BUYING_TYPES,
    DELETED_STATUS,
    FIELDS,
    ID_FIELD,
    LIVE_STATUSES,
    parse_time,
    primary_status,
)
from .entity_fields import known_fields
from .errors import invalid_param
from .pagination import page_params, paginate
from .params import id_list
from .routes import Call, Route

MAX_FILTER_IDS = 100
TOPVIEW = "RESERVATION_TOP_VIEW"
TOPVIEW_MAX_ADGROUP_PAGE_SIZE = 100
DEFAULT_BUYING_TYPES = ("AUCTION", "RESERVATION_RF")
PRIMARY_STATUSES = (
    "STATUS_ALL",
    "STATUS_NOT_DELETE",
    "STATUS_DELETE",
    "STATUS_DELIVERY_OK",
    "STATUS_DISABLE",
    "STATUS_NOT_DELIVERY",
    "STATUS_TIME_DONE",
    "STATUS_RF_CLOSED",
    "STATUS_FROZEN",
    "STATUS_DELIVERY_PARTIAL",
    "STATUS_DELIVERY_CATALOG",
)
ID_FILTERS = {
    "campaign": ("campaign_ids",),
    "adgroup": ("campaign_ids", "adgroup_ids"),
    "ad": ("campaign_ids", "adgroup_ids", "ad_ids"),
}
# Only keys this fake implements; any other key is rejected rather than silently ignored.
FILTER_KEYS = {
    level: {*ids, "primary_status", "secondary_status", "buying_types"}
    | ({"modified_after"} if level == "ad" else set())
    for level, ids in ID_FILTERS.items()
}
LEVEL_STATUS_PREFIX = {"campaign": "CAMPAIGN", "adgroup": "ADGROUP", "ad": "AD"}

Predicate = Callable[[dict[str, Any]], bool]


def _status_predicates(level: str, filtering: dict[str, Any]) -> list[Predicate]:
    primary = filtering.get("primary_status")
    secondary = filtering.get("secondary_status")
    predicates: list[Predicate] = []
    if secondary is not None:
        all_status = f"{LEVEL_STATUS_PREFIX[level]}_STATUS_ALL"
        valid = {s for _, s in LIVE_STATUSES[level]} | {DELETED_STATUS[level], all_status}
        if secondary not in valid:
            raise invalid_param(
                f"filtering.secondary_status: Invalid value {secondary!r} for this level."
            )
        # INFERRED (Airbyte practice): the legacy *_STATUS_ALL means everything, deleted included.
        if secondary != all_status:
            predicates.append(lambda row: row["secondary_status"] == secondary)
    if primary is None:
        # A secondary_status filter replaces the default primary one (it may ask for deleted).
        primary = "STATUS_ALL" if secondary is not None else "STATUS_NOT_DELETE"
    if primary not in PRIMARY_STATUSES:
        raise invalid_param(f"filtering.primary_status: Invalid value {primary!r}.")
    if primary == "STATUS_NOT_DELETE":
        predicates.append(lambda row: primary_status(row) != "STATUS_DELETE")
    elif primary != "STATUS_ALL":
        predicates.append(lambda row: primary_status(row) == primary)
    return predicates


def _buying_types(filtering: dict[str, Any]) -> tuple[str, ...]:
    value = filtering.get("buying_types", list(DEFAULT_BUYING_TYPES))
    if not isinstance(value, list) or not value or any(v not in BUYING_TYPES for v in value):
        raise invalid_param(
            f"filtering.buying_types: Must be a non-empty list of {list(BUYING_TYPES)}."
        )
    if TOPVIEW in value and len(value) > 1:
        raise invalid_param(
            "filtering.buying_types: RESERVATION_TOP_VIEW cannot be used with other values."
        )
    return tuple(value)


def _modified_after(filtering: dict[str, Any]) -> Predicate | None:
    value = filtering.get("modified_after")
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_param("filtering.modified_after: Must be a string 'YYYY-MM-DD HH:MM:SS'.")
    try:
        after = parse_time(value)
    except ValueError:
        raise invalid_param(
            "filtering.modified_after: Must be in the format 'YYYY-MM-DD HH:MM:SS'."
        ) from None
    # INFERRED: no source says whether the bound is inclusive; the fake takes the stricter
    # reading (exclusive), so a client must ask from before its bookmark to keep ties.
    # Objects without modify_time (Smart+ ads) cannot be compared, so they always come back.
    return lambda row: "modify_time" not in row or parse_time(row["modify_time"]) > after


def build_filter(
    call: Call, level: str, filtering: dict[str, Any]
) -> tuple[Predicate, tuple[str, ...]]:
    """Validate `filtering` for a level; return the row predicate and the buying types asked."""
    unknown = sorted(set(filtering) - FILTER_KEYS[level])
    if unknown:
        raise invalid_param(f"filtering: Unknown field(s) {unknown}.")
    predicates = _status_predicates(level, filtering)
    for key in ID_FILTERS[level]:
        if key in filtering:
            wanted = set(id_list(f"filtering.{key}", filtering[key], limit=MAX_FILTER_IDS))
            id_field = key[:-1]
            predicates.append(lambda row, wanted=wanted, id_field=id_field: row[id_field] in wanted)
    buying_types = _buying_types(filtering)
    data = call.api.data
    id_field = ID_FIELD[level]
    predicates.append(lambda row: data.buying_type(row[id_field]) in buying_types)
    modified = _modified_after(filtering) if level == "ad" else None
    if modified is not None:
        predicates.append(modified)
    return (lambda row: all(p(row) for p in predicates)), buying_types


def _project(
    row: dict[str, Any], id_field: str, fields: list[str] | None, drop_nulls: bool
) -> dict[str, Any]:
    if fields is not None:
        row = {f: row[f] for f in dict.fromkeys((id_field, *fields)) if f in row}
    if drop_nulls:
        row = {k: v for k, v in row.items() if v is not None}
    return copy.deepcopy(row)


def _drop_nulls(call: Call) -> bool:
    types = call.params.json_list("exclude_field_types_in_response") or []
    if any(t != "NULL_FIELD" for t in types):
        raise invalid_param("exclude_field_types_in_response: Only 'NULL_FIELD' is supported.")
    return bool(types)


def entity_handler(level: str) -> Callable[[Call], dict[str, Any]]:
    """Build the GET handler of one entity level."""
    id_field = ID_FIELD[level]

    def handle(call: Call) -> dict[str, Any]:
        advertiser_id = call.params.string("advertiser_id", required=True)
        require_access(call.api.data, [advertiser_id])
        page, page_size = page_params(call.params)
        fields = requested_fields(call, (*FIELDS[level], *known_fields(level)))
        drop_nulls = _drop_nulls(call)
        predicate, buying_types = build_filter(
            call, level, call.params.json_object("filtering") or {}
        )
        if (
            level == "adgroup"
            and buying_types == (TOPVIEW,)
            and page_size > TOPVIEW_MAX_ADGROUP_PAGE_SIZE
        ):
            raise invalid_param(
                "page_size: Must be between 1 and 100 when buying_types is RESERVATION_TOP_VIEW."
            )
        rows = [
            _project(row, id_field, fields, drop_nulls)
            for row in call.api.data.rows(level)  # already sorted by id descending
            if row["advertiser_id"] == advertiser_id and predicate(row)
        ]
        return paginate(rows, page, page_size)

    handle.__doc__ = f"GET {level}/get/."
    return handle


ROUTES = (
    Route("campaign/get/", entity_handler("campaign")),
    Route("adgroup/get/", entity_handler("adgroup")),
    Route("ad/get/", entity_handler("ad")),
)
