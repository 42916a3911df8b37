"""GMV Max: /gmv_max/store/list/, /gmv_max/campaign/get/ and /gmv_max/report/get/.

Rules from tiktok-api.md section 16:
- store list: `advertiser_id` only; `data.store_list`, no paging; null fields dropped.
- campaign get: `filtering` required, with `gmv_max_promotion_types` required (PRODUCT_GMV_MAX,
  LIVE_GMV_MAX); `store_ids` <= 10, `campaign_ids` <= 100, `campaign_name`, `primary_status`
  (STATUS_DELIVERY_OK, STATUS_DISABLE, STATUS_DELETE; without it, deleted campaigns are left
  out), creation time filters (UTC); `page_size` 1-100, default 10. Rows name neither store nor
  promotion type.
- report get: `store_ids` exactly one; `dimensions` <= 3 of the documented ones; `metrics`
  required, <= 100; `start_date`/`end_date` (advertiser time zone, inclusive), <= 30 dates with
  `stat_time_day`, one with `stat_time_hour`, <= 365 without; campaign level needs
  `gmv_max_promotion_types` with one of PRODUCT, LIVE, whose own metrics only are accepted;
  undeleted campaigns unless `campaign_statuses` asks for deleted ones; `page_size` 1-1000.
  Own QPS tier: 8 (Basic). Values are strings; zero denominators give "0.00".
INFERRED: a store the advertiser may not report on (not its exclusive GMV Max store) answers
40001 naming the store. The fake serves campaign-level reports only ([campaign_id] with
optionally `stat_time_day`); other documented levels answer 40002 saying so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .advertisers import require_access
from .dataset import parse_time
from .errors import NO_PERMISSION, ApiError, invalid_param
from .gmv_max_data import (
    CAMPAIGN_TYPE_NAMES,
    LAST_DELIVERY_DATE,
    LIVE,
    PRODUCT,
    GmvCampaign,
    GmvMaxWorld,
    gmv_max_world,
    money,
    ratio,
)
from .pagination import page_params, paginate
from .params import Params, id_list
from .routes import Call, Route

if TYPE_CHECKING:
    from .server import FakeMarketingAPI

STORE_LIST_PATH = "gmv_max/store/list/"
CAMPAIGN_PATH = "gmv_max/campaign/get/"
REPORT_PATH = "gmv_max/report/get/"
REPORT_QPS = 8
MAX_CAMPAIGN_PAGE_SIZE = 100
CAMPAIGN_PROMOTION_TYPES = ("PRODUCT_GMV_MAX", "LIVE_GMV_MAX")
CAMPAIGN_PRIMARY_STATUSES = ("STATUS_DELIVERY_OK", "STATUS_DISABLE", "STATUS_DELETE")
CAMPAIGN_FIELDS = (
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "operation_status",
    "create_time",
    "modify_time",
    "objective_type",
    "secondary_status",
    "roi_protection_compensation_status",
)
REPORT_DIMENSIONS = (
    "advertiser_id",
    "campaign_id",
    "stat_time_day",
    "stat_time_hour",
    "item_group_id",
    "item_id",
    "room_id",
    "duration",
)
REPORT_STATUSES = (
    "STATUS_ALL",
    "STATUS_DELETE",
    "STATUS_DELIVERY_OK",
    "STATUS_DISABLE",
    "STATUS_NOT_DELIVERY",
)
_PRODUCT_ATTRIBUTES = (
    "campaign_id",
    "operation_status",
    "campaign_name",
    "schedule_type",
    "schedule_start_time",
    "schedule_end_time",
    "target_roi_budget",
    "bid_type",
    "max_delivery_budget",
)
_SALES = ("roas_bid", "cost", "net_cost", "orders", "cost_per_order", "gross_revenue", "roi")
_LIVE_ATTRIBUTES = ("tt_account_name", "tt_account_profile_image_url", "identity_id")
_LIVE_METRICS = (
    "live_views",
    "cost_per_live_view",
    "10_second_live_views",
    "cost_per_10_second_live_view",
    "live_follows",
)
#: Campaign-level metrics TikTok documents for each promotion type.
CAMPAIGN_METRICS = {
    PRODUCT: frozenset(_PRODUCT_ATTRIBUTES + _SALES),
    LIVE: frozenset(_PRODUCT_ATTRIBUTES + _LIVE_ATTRIBUTES + _SALES + _LIVE_METRICS),
}
ATTRIBUTE_METRICS = frozenset(_PRODUCT_ATTRIBUTES + _LIVE_ATTRIBUTES) | {"roas_bid"}
MAX_DAY_SPAN = 30
MAX_SPAN = 365


def _advertiser(call: Call) -> str:
    advertiser_id = call.params.string("advertiser_id", required=True) or ""
    if not advertiser_id.isdigit():
        raise invalid_param("advertiser_id: Must be a numeric string.")
    require_access(call.api.data, [advertiser_id])
    return advertiser_id


# ----- /gmv_max/store/list/ -----


def store_list(call: Call) -> dict[str, Any]:
    """GET gmv_max/store/list/: every store the advertiser sees (no paging)."""
    advertiser_id = _advertiser(call)
    world = gmv_max_world(call.api)
    return {"store_list": [json.loads(json.dumps(s)) for s in world.stores.get(advertiser_id, [])]}


# ----- /gmv_max/campaign/get/ -----


def _one_of(value: Any, name: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise invalid_param(f"{name}: Must be one of: {', '.join(allowed)}.")


def _utc_filter(filtering: dict[str, Any], name: str) -> datetime | None:
    value = filtering.get(name)
    if value in (None, ""):
        return None
    try:
        return parse_time(str(value))
    except ValueError:
        raise invalid_param(f"filtering.{name}: Must be 'YYYY-MM-DD HH:MM:SS' (UTC).") from None


def campaign_get(call: Call) -> dict[str, Any]:
    """GET gmv_max/campaign/get/: one advertiser's GMV Max campaigns of the asked types."""
    advertiser_id = _advertiser(call)
    filtering = call.params.json_object("filtering")
    if filtering is None:
        raise invalid_param("filtering: Missing data for required field.")
    types = filtering.get("gmv_max_promotion_types")
    if not isinstance(types, list) or not types:
        raise invalid_param("filtering.gmv_max_promotion_types: Missing data for required field.")
    for value in types:
        _one_of(value, "filtering.gmv_max_promotion_types", CAMPAIGN_PROMOTION_TYPES)
    store_ids = filtering.get("store_ids")
    stores = set(id_list("filtering.store_ids", store_ids, limit=10)) if store_ids else None
    campaign_ids = filtering.get("campaign_ids")
    ids = set(id_list("filtering.campaign_ids", campaign_ids, limit=100)) if campaign_ids else None
    status = filtering.get("primary_status")
    if status is not None:
        _one_of(status, "filtering.primary_status", CAMPAIGN_PRIMARY_STATUSES)
    name = str(filtering.get("campaign_name") or "").casefold()
    created_from = _utc_filter(filtering, "creation_filter_start_time")
    created_to = _utc_filter(filtering, "creation_filter_end_time")
    fields = call.params.json_list("fields")
    if fields:
        unknown = [f for f in fields if f not in CAMPAIGN_FIELDS]
        if unknown:
            raise invalid_param(f"fields: Invalid field(s): {unknown}.")
    page, page_size = page_params(call.params, max_page_size=MAX_CAMPAIGN_PAGE_SIZE)

    wanted_types = {t for t, n in CAMPAIGN_TYPE_NAMES.items() if n in types}
    rows = []
    for campaign in gmv_max_world(call.api).campaigns_of(advertiser_id):
        if campaign.promotion not in wanted_types:
            continue
        if stores is not None and campaign.store_id not in stores:
            continue
        if ids is not None and campaign.campaign_id not in ids:
            continue
        if status is None and campaign.primary_status == "STATUS_DELETE":
            continue
        if status is not None and campaign.primary_status != status:
            continue
        if name and name not in campaign.row["campaign_name"].casefold():
            continue
        if created_from and campaign.created < created_from:
            continue
        if created_to and campaign.created > created_to:
            continue
        row = dict(campaign.row)
        rows.append({f: row[f] for f in ("advertiser_id", *fields)} if fields else row)
    return paginate(rows, page, page_size)


# ----- /gmv_max/report/get/ -----


def _date(params: Params, name: str) -> date:
    text = params.string(name, required=True) or ""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise invalid_param(f"{name}: Not a valid date (YYYY-MM-DD).") from None


def _report_query(
    api: FakeMarketingAPI, params: Params
) -> tuple[str, str, str, list[str], list[str], date, date, set[str], set[str] | None]:
    """Validate a report request: (advertiser, store, type, dims, metrics, start, end, statuses,
    campaign ids)."""
    advertiser_id = params.string("advertiser_id", required=True) or ""
    if not advertiser_id.isdigit():
        raise invalid_param("advertiser_id: Must be a numeric string.")
    require_access(api.data, [advertiser_id])
    store_ids = id_list("store_ids", params.json_list("store_ids", required=True), limit=1)
    if len(store_ids) != 1:
        raise invalid_param("store_ids: Length must be 1.")
    dimensions = params.json_list("dimensions", required=True) or []
    if not 1 <= len(dimensions) <= 3:
        raise invalid_param("dimensions: Length must be between 1 and 3.")
    unknown = [d for d in dimensions if d not in REPORT_DIMENSIONS]
    if unknown:
        raise invalid_param(f"dimensions: Invalid dimension(s): {unknown}.")
    if set(dimensions) not in ({"campaign_id"}, {"campaign_id", "stat_time_day"}):
        raise invalid_param(
            f"dimensions: {dimensions} are valid for TikTok, but this fake serves only "
            "[campaign_id] and [campaign_id, stat_time_day]."
        )
    metrics = params.json_list("metrics", required=True) or []
    if not 1 <= len(metrics) <= 100:
        raise invalid_param("metrics: Length must be between 1 and 100.")
    start, end = _date(params, "start_date"), _date(params, "end_date")
    if start > end:
        raise invalid_param("start_date: Must not be later than end_date.")
    span = MAX_DAY_SPAN if "stat_time_day" in dimensions else MAX_SPAN
    if (end - start).days + 1 > span:
        raise invalid_param(f"end_date: The time range must not exceed {span} days.")
    filtering = params.json_object("filtering") or {}
    types = filtering.get("gmv_max_promotion_types")
    if not isinstance(types, list) or len(types) != 1 or types[0] not in (PRODUCT, LIVE):
        raise invalid_param(
            "filtering.gmv_max_promotion_types: campaign-level reports need exactly one of "
            "PRODUCT, LIVE."
        )
    promotion = types[0]
    refused = [m for m in metrics if m not in CAMPAIGN_METRICS[promotion]]
    if refused:
        raise invalid_param(f"metrics: Invalid metric(s) for {promotion} campaigns: {refused}.")
    statuses = filtering.get("campaign_statuses")
    if statuses is None:
        wanted = set(REPORT_STATUSES) - {"STATUS_ALL", "STATUS_DELETE"}
    else:
        if not isinstance(statuses, list) or not statuses:
            raise invalid_param("filtering.campaign_statuses: Not a valid list.")
        for value in statuses:
            _one_of(value, "filtering.campaign_statuses", REPORT_STATUSES)
        wanted = set(REPORT_STATUSES) if "STATUS_ALL" in statuses else set(statuses)
    raw_ids = filtering.get("campaign_ids")
    campaign_ids = set(id_list("filtering.campaign_ids", raw_ids, limit=100)) if raw_ids else None
    store_id = store_ids[0]
    if not gmv_max_world(api).reportable(advertiser_id, store_id):
        raise ApiError(
            NO_PERMISSION,
            f"No permission to operate store {store_id}: the ad account is not its exclusive "
            "GMV Max ad account.",
        )
    return advertiser_id, store_id, promotion, dimensions, metrics, start, end, wanted, campaign_ids


def _render(world: GmvMaxWorld, campaign: GmvCampaign, numbers: dict[str, int], metric: str) -> str:
    if metric in ATTRIBUTE_METRICS:
        return campaign.attributes[metric]
    cost = numbers["cost"]
    if metric in ("cost", "net_cost", "gross_revenue"):
        return money(numbers[metric])
    if metric in ("orders", "live_views", "10_second_live_views", "live_follows"):
        return str(numbers[metric])
    if metric == "cost_per_order":
        return ratio(cost, numbers["orders"], Decimal("0.01"))
    if metric == "roi":
        return ratio(numbers["gross_revenue"], cost)
    if metric == "cost_per_live_view":
        return ratio(cost, numbers["live_views"], Decimal("0.01"))
    if metric == "cost_per_10_second_live_view":
        return ratio(cost, numbers["10_second_live_views"], Decimal("0.01"))
    raise AssertionError(metric)


def run_gmv_max_report(api: FakeMarketingAPI, params: Params) -> list[dict[str, Any]]:
    """Every row of a report request (all pages), sorted by campaign id then date."""
    advertiser_id, store_id, promotion, dimensions, metrics, start, end, statuses, ids = (
        _report_query(api, params)
    )
    world = gmv_max_world(api)
    advertiser = api.data.advertiser(advertiser_id) or {}
    zone = ZoneInfo(advertiser["timezone"])
    last = min(end, api.now.astimezone(zone).date(), LAST_DELIVERY_DATE)
    daily = "stat_time_day" in dimensions
    rows = []
    for campaign in sorted(world.campaigns_of(advertiser_id), key=lambda c: int(c.campaign_id)):
        if campaign.store_id != store_id or campaign.promotion != promotion:
            continue
        if campaign.primary_status not in statuses:
            continue
        if ids is not None and campaign.campaign_id not in ids:
            continue
        first = max(start, campaign.created.astimezone(zone).date())
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        per_day = [(d, world.day_cents(campaign, d)) for d in days]
        delivered = [(d, n) for d, n in per_day if n is not None]
        if not delivered:
            continue
        groups = (
            [({"stat_time_day": f"{d.isoformat()} 00:00:00"}, n) for d, n in delivered]
            if daily
            else [({}, {k: sum(n[k] for _, n in delivered) for k in delivered[0][1]})]
        )
        for extra_dimensions, numbers in groups:
            rows.append(
                {
                    "dimensions": {"campaign_id": campaign.campaign_id, **extra_dimensions},
                    "metrics": {m: _render(world, campaign, numbers, m) for m in metrics},
                }
            )
    return rows


def report_get(call: Call) -> dict[str, Any]:
    """GET gmv_max/report/get/: one store's campaign-level report, paged."""
    page, page_size = page_params(call.params)
    rows = run_gmv_max_report(call.api, call.params)
    return paginate(rows, page, page_size)


def gmv_max_report_rows(api: FakeMarketingAPI, **values: Any) -> list[dict[str, Any]]:
    """Every row the report endpoint returns for a query given as wire values (lists allowed)."""
    with api.lock:
        return run_gmv_max_report(api, Params(values=dict(values)))


ROUTES = (
    Route(STORE_LIST_PATH, store_list),
    Route(CAMPAIGN_PATH, campaign_get),
    Route(REPORT_PATH, report_get, qps_limit=REPORT_QPS),
)
