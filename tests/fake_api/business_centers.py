"""Business Centers: /bc/get/ (the BCs the token's user belongs to) and /bc/asset/get/.

Rules from tiktok-api.md section 15: both page with `page` (from 1) and `page_size` (1-50,
default 10); /bc/asset/get/ requires `bc_id` and `asset_type`. /bc/get/ drops null fields from
its answer, /bc/asset/get/ keeps them. A BC the user does not belong to (or that does not exist)
answers 40001 naming the BC (INFERRED: the facts give no code for it). The fake's BCs hold
advertisers only; other asset types list nothing.
"""

from __future__ import annotations

from typing import Any

from .dataset import BusinessCenter, Dataset
from .errors import NO_PERMISSION, ApiError, invalid_param
from .pagination import page_params, paginate
from .routes import Call, Route

MAX_BC_PAGE_SIZE = 50
SCENES = ("SINGLE_ACCOUNT", "TIERED_ACCOUNT")
KEYWORD_TYPES = ("ASSET", "MEMBER", "PARTNER", "TIER")
RELATION_TYPES = ("CHILD", "PARENT")
ASSET_TYPES = ("ADVERTISER", "CATALOG", "LEAD", "PIXEL", "STOREFRONT", "TIKTOK_SHOP", "TT_ACCOUNT")


def _numeric_id(call: Call, name: str, *, required: bool = False) -> str | None:
    """An id parameter: a string of digits (40002 otherwise)."""
    value = call.params.string(name, required=required)
    if value is not None and not value.isdigit():
        raise invalid_param(f"{name}: Must be a numeric string.")
    return value


def _one_of(value: Any, name: str, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise invalid_param(f"{name}: Must be one of: {', '.join(allowed)}.")


def _readable_bc(data: Dataset, bc_id: str) -> BusinessCenter:
    """The BC, if the token's user belongs to it; 40001 naming it otherwise."""
    bc = data.business_center(bc_id)
    if bc is None:
        raise ApiError(NO_PERMISSION, f"No permission to operate Business Center {bc_id}.")
    return bc


def bc_get(call: Call) -> dict[str, Any]:
    """GET bc/get/: the Business Centers the token's user belongs to, paged (1-50 a page)."""
    bc_id = _numeric_id(call, "bc_id")
    _one_of(call.params.string("scene"), "scene", SCENES)
    filtering = call.params.json_object("filtering") or {}
    _one_of(filtering.get("keyword_type"), "filtering.keyword_type", KEYWORD_TYPES)
    _one_of(filtering.get("relation_type"), "filtering.relation_type", RELATION_TYPES)
    page, page_size = page_params(call.params, max_page_size=MAX_BC_PAGE_SIZE)
    data = call.api.data
    centers = [_readable_bc(data, bc_id)] if bc_id else list(data.business_centers)
    keyword = str(filtering.get("keyword") or "").casefold()
    rows = [
        {
            "bc_info": dict(bc.info),
            "user_role": "ADMIN",
            "ext_user_role": {"finance_role": "MANAGER"},
        }
        for bc in centers
        if keyword in bc.info["name"].casefold()
    ]
    return paginate(rows, page, page_size)


def _advertiser_asset(data: Dataset, bc: BusinessCenter, advertiser_id: str) -> dict[str, Any]:
    """One ADVERTISER asset row; fields that do not apply to advertisers are null (kept)."""
    advertiser = data.advertiser(advertiser_id) or {}
    owned = advertiser_id in bc.owned_advertiser_ids
    return {
        "asset_id": advertiser_id,
        "asset_name": advertiser.get("name"),
        "asset_type": "ADVERTISER",
        "advertiser_account_type": advertiser.get("advertiser_account_type"),
        "advertiser_role": "ADMIN",
        "owner_bc_name": bc.info["name"] if owned else None,
        "catalog_role": None,
        "store_role": None,
        "ad_creation_eligible": None,
        "tt_account_roles": None,
        "relation_type": "OWNER_BC" if owned else "OWNER_PARTNER",
        "relation_status": "BOUND",
        "advertiser_status": advertiser.get("status"),
    }


def bc_asset_get(call: Call) -> dict[str, Any]:
    """GET bc/asset/get/: one asset type of one BC, paged (1-50 a page)."""
    bc_id = _numeric_id(call, "bc_id", required=True) or ""
    asset_type = call.params.string("asset_type", required=True)
    _one_of(asset_type, "asset_type", ASSET_TYPES)
    _numeric_id(call, "child_bc_id")
    filtering = call.params.json_object("filtering") or {}
    if filtering.get("user_id") and filtering.get("user_email"):
        raise invalid_param("filtering: user_id and user_email cannot be passed together.")
    page, page_size = page_params(call.params, max_page_size=MAX_BC_PAGE_SIZE)
    data = call.api.data
    bc = _readable_bc(data, bc_id)
    rows: list[dict[str, Any]] = []
    if asset_type == "ADVERTISER":
        keyword = str(filtering.get("keyword") or "").casefold()
        rows = [
            row
            for row in (_advertiser_asset(data, bc, a) for a in bc.advertiser_ids)
            if keyword in f"{row['asset_id']} {row['asset_name']}".casefold()
        ]
    return paginate(rows, page, page_size)


ROUTES = (
    Route("bc/get/", bc_get),
    Route("bc/asset/get/", bc_asset_get),
)
