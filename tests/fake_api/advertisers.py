"""/advertiser/info/ and the rule that a token reads only the advertisers it may reach.

A token reaches the advertisers authorized to the app and those of its user's Business Centers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .dataset import ADVERTISER_FIELDS, Dataset
from .errors import NO_PERMISSION, TOO_MANY_IDS, ApiError, invalid_param
from .params import id_list
from .routes import Call, Route

MAX_ADVERTISER_IDS = 100
# Not returned by default; asking for it returns only it and advertiser_id.
COMPANY_NAME_EDITABLE = "company_name_editable"


def require_access(data: Dataset, advertiser_ids: Iterable[str]) -> None:
    """Raise 40001 unless the token may read every advertiser (authorized or through a BC)."""
    readable = data.readable_advertiser_ids
    denied = [a for a in advertiser_ids if a not in readable]
    if denied:
        raise ApiError(
            NO_PERMISSION, f"No permission to operate advertiser(s): {', '.join(denied)}."
        )


def requested_fields(call: Call, known: tuple[str, ...]) -> list[str] | None:
    """Validated `fields` list, or None for the default (all fields)."""
    fields = call.params.json_list("fields")
    if not fields:
        return None
    unknown = [f for f in fields if not isinstance(f, str) or f not in known]
    if unknown:
        raise invalid_param(f"fields: Invalid field(s): {unknown}.")
    return fields


def advertiser_info(call: Call) -> dict[str, Any]:
    """GET advertiser/info/: rows for up to 100 authorized advertiser_ids."""
    raw_ids = call.params.json_list("advertiser_ids", required=True)
    ids = id_list("advertiser_ids", raw_ids, limit=MAX_ADVERTISER_IDS, too_many_code=TOO_MANY_IDS)
    if not ids:
        raise invalid_param("advertiser_ids: Length must be between 1 and 100.")
    fields = requested_fields(call, (*ADVERTISER_FIELDS, COMPANY_NAME_EDITABLE))
    data = call.api.data
    require_access(data, ids)
    rows = []
    for advertiser_id in dict.fromkeys(ids):
        row = data.advertiser(advertiser_id)
        if row is None:
            continue
        if fields is None:
            rows.append(dict(row))
        elif COMPANY_NAME_EDITABLE in fields:
            rows.append({"advertiser_id": advertiser_id, COMPANY_NAME_EDITABLE: True})
        else:
            rows.append({f: row[f] for f in ("advertiser_id", *fields)})
    return {"list": rows}


ROUTES = (Route("advertiser/info/", advertiser_info),)
