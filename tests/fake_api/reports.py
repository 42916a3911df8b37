"""report/integrated/get/: the synchronous report, computed from report_data's ad-days.

Rows are built bottom-up: every selected ad's delivered local dates are split as deep as the
breakdowns need, the pieces are summed per row key, and derived metrics are computed from those
sums, never averaged. The handler and FakeMarketingAPI.report_rows share `run_report`, so tests
can compare a client's records with exactly what the endpoint serves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .advertisers import require_access
from .dataset import parse_time, primary_status
from .errors import ApiError, invalid_param
from .pagination import page_params, paginate
from .params import Params, id_list
from .report_data import (
    FIRST_DELIVERY_DATE,
    GROSS,
    HOUR,
    LAST_DELIVERY_DATE,
    Cell,
    cents_text,
    needed_fields,
    ratio,
)
from .report_rules import (
    ATTRIBUTE_METRICS,
    DAY,
    ID_DIMENSIONS,
    QUERY_TOO_LARGE,
    QUERY_TOO_LARGE_MESSAGE,
    ReportQuery,
    parse_query,
)
from .routes import Call, Route

if TYPE_CHECKING:
    from .server import FakeMarketingAPI

CENT = Fraction(1, 100)
COUNT_METRICS = (
    "impressions",
    "gross_impressions",
    "clicks",
    "conversion",
    "real_time_conversion",
    "result",
    "real_time_result",
    "secondary_goal_result",
    "video_play_actions",
    "video_watched_2s",
    "video_watched_6s",
    "video_views_p25",
    "video_views_p50",
    "video_views_p75",
    "video_views_p100",
    "profile_visits",
    "likes",
    "comments",
    "shares",
    "follows",
    "clicks_on_music_disc",
    "engaged_view",
    "engaged_view_15s",
    "app_install",
    "real_time_app_install",
    "reach",
)
# Money metric -> (base field in cents, base field subtracted or None).
MONEY_METRICS: dict[str, tuple[str, str | None]] = {
    "spend": ("spend", None),
    "billed_cost": ("billed_cost", None),
    "voucher_spend": ("voucher_spend", None),
    "cash_spend": ("spend", "voucher_spend"),
}
# Ratio metric -> (numerator, denominator, scale); spend and play time are in hundredths.
RATIO_METRICS: dict[str, tuple[str, str, Fraction | int]] = {
    "ctr": ("clicks", "impressions", 100),
    "cpc": ("spend", "clicks", CENT),
    "cpm": ("spend", "impressions", 1000 * CENT),
    "cost_per_conversion": ("spend", "conversion", CENT),
    "conversion_rate": ("conversion", "clicks", 100),
    "conversion_rate_v2": ("conversion", "impressions", 100),
    "real_time_cost_per_conversion": ("spend", "real_time_conversion", CENT),
    "real_time_conversion_rate": ("real_time_conversion", "clicks", 100),
    "real_time_conversion_rate_v2": ("real_time_conversion", "impressions", 100),
    "cost_per_result": ("spend", "result", CENT),
    "result_rate": ("result", "impressions", 100),
    "real_time_cost_per_result": ("spend", "real_time_result", CENT),
    "real_time_result_rate": ("real_time_result", "impressions", 100),
    "cost_per_secondary_goal_result": ("spend", "secondary_goal_result", CENT),
    "secondary_goal_result_rate": ("secondary_goal_result", "impressions", 100),
    "cost_per_1000_reached": ("spend", "reach", 1000 * CENT),
    "frequency": ("impressions", "reach", 1),
    "average_video_play": ("video_play_time", "video_play_actions", CENT),
    "average_video_play_per_user": ("video_play_time", "reach", CENT),
    "profile_visits_rate": ("profile_visits", "impressions", 100),
    "real_time_app_install_cost": ("spend", "real_time_app_install", CENT),
}
SECONDARY_GOAL_METRICS = (
    "secondary_goal_result",
    "cost_per_secondary_goal_result",
    "secondary_goal_result_rate",
)
NO_VALUE = "-"
# A report request may name up to 5 advertisers (BASIC and AUDIENCE reports).
MAX_BATCH_ADVERTISERS = 5
BATCH_REPORT_TYPES = ("BASIC", "AUDIENCE")
RESULT_CACHE_SIZE = 64


def base_fields_of(metric: str) -> tuple[str, ...]:
    """Base fields a non-attribute metric is computed from."""
    if metric in MONEY_METRICS:
        return tuple(f for f in MONEY_METRICS[metric] if f)
    if metric in RATIO_METRICS:
        return RATIO_METRICS[metric][:2]
    return (metric,) if metric in COUNT_METRICS else ()


class _Group:
    """Sums of one report row; reach counts unique users, so it is not a plain sum."""

    __slots__ = ("reach_max", "reach_sum", "secondary", "sums")

    def __init__(self, fields: Sequence[str]) -> None:
        self.sums = dict.fromkeys(fields, 0)
        self.reach_sum = self.reach_max = 0
        self.secondary = False

    def add(self, cell: Cell, secondary_applies: bool) -> None:
        sums = self.sums
        for name, value in cell.items():
            sums[name] += value
        if not secondary_applies and "secondary_goal_result" in cell:
            sums["secondary_goal_result"] -= cell["secondary_goal_result"]
        self.secondary = self.secondary or secondary_applies
        reach = cell.get("reach", 0)
        self.reach_sum += reach
        self.reach_max = max(self.reach_max, reach)

    def value(self, name: str) -> int:
        """A summed base field; reach assumes a fifth of the users of the other parts overlap.

        Any deterministic rule would do; this one keeps max(part) <= reach <= impressions.
        """
        if name == "reach":
            return self.reach_max + (self.reach_sum - self.reach_max) * 4 // 5
        return self.sums[name]

    def render(self, metric: str) -> str:
        """One metric in TikTok's string shape."""
        if metric in SECONDARY_GOAL_METRICS and not self.secondary:
            return NO_VALUE
        if metric in MONEY_METRICS:
            field, minus = MONEY_METRICS[metric]
            return cents_text(self.value(field) - (self.value(minus) if minus else 0))
        if metric in RATIO_METRICS:
            numerator, denominator, scale = RATIO_METRICS[metric]
            return ratio(self.value(numerator), self.value(denominator), scale)
        return str(self.value(metric))


def _text(value: Any, money: bool = False) -> str:
    if value is None or value == "":
        return NO_VALUE
    if money:
        return f"{float(value):.2f}"
    return str(value)


def _attributes(
    level: str,
    advertiser: dict[str, Any],
    campaign: dict[str, Any] | None,
    adgroup: dict[str, Any] | None,
    ad: dict[str, Any] | None,
) -> dict[str, str]:
    """Attribute metrics of one row's object, from the entity data (unknown ones are '-')."""
    values = {
        "advertiser_name": _text(advertiser["name"]),
        "advertiser_id": advertiser["advertiser_id"],
        "currency": _text(advertiser["currency"]),
    }
    if campaign is not None:
        values.update(
            campaign_name=_text(campaign["campaign_name"]),
            objective_type=_text(campaign.get("objective_type")),
            campaign_budget=_text(campaign.get("budget"), money=True),
            app_promotion_type=_text(campaign.get("app_promotion_type")),
        )
    if adgroup is not None:
        values.update(
            campaign_id=adgroup["campaign_id"],
            adgroup_name=_text(adgroup["adgroup_name"]),
            placement_type=_text(adgroup.get("placement_type")),
            promotion_type=_text(adgroup.get("promotion_type")),
            opt_status=_text(adgroup.get("operation_status")),
            budget=_text(adgroup.get("budget"), money=True),
            billing_event=_text(adgroup.get("billing_event")),
            bid=_text(adgroup.get("bid_price"), money=True),
        )
    if ad is not None:
        values.update(
            adgroup_id=ad["adgroup_id"],
            ad_name=_text(ad["ad_name"]),
            ad_id=ad["ad_id"],
            ad_text=_text(ad.get("ad_text")),
            call_to_action=_text(ad.get("call_to_action")),
            ad_url=_text(ad.get("landing_page_url")),
        )
    return {name: values.get(name, NO_VALUE) for name in ATTRIBUTE_METRICS[level]}


def _is_deleted(row: dict[str, Any]) -> bool:
    return primary_status(row) == "STATUS_DELETE"


def _sort_key(dimensions: Sequence[str]) -> Callable[[tuple[str, ...]], tuple[Any, ...]]:
    numeric = [d in ID_DIMENSIONS for d in dimensions]
    return lambda key: tuple(int(v) if n else v for v, n in zip(key, numeric, strict=True))


def _dates(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def compute(api: FakeMarketingAPI, query: ReportQuery) -> tuple[list[dict], dict | None]:
    """All rows of a validated query (sorted by dimension values) and its total_metrics."""
    data, model = api.data, api.delivery
    advertiser = data.advertiser(query.advertiser_id)
    attribute_names = set(ATTRIBUTE_METRICS[query.level])
    fields = needed_fields(f for m in query.metrics for f in base_fields_of(m))
    total = _Group(fields)
    if advertiser is None or query.service_mismatch:
        return [], _total_metrics(query, total, attribute_names)

    zone = ZoneInfo(advertiser["timezone"])
    today = api.now.astimezone(zone).date()
    last = min(today, LAST_DELIVERY_DATE)
    first = FIRST_DELIVERY_DATE
    if not query.lifetime:
        assert query.start is not None and query.end is not None
        first, last = max(first, query.start), min(last, query.end)

    advertiser_id = query.advertiser_id
    campaigns = {r["campaign_id"]: r for r in data.rows("campaign")}
    adgroups = {r["adgroup_id"]: r for r in data.rows("adgroup")}
    wanted = set(query.breakdowns) | ({HOUR} if query.time_dimension == HOUR else set())
    groups: dict[tuple[str, ...], _Group] = {}
    attributes: dict[str, dict[str, str]] = {}

    for ad in data.rows("ad"):
        if ad["advertiser_id"] != advertiser_id:
            continue
        objects = {
            "campaign": campaigns[ad["campaign_id"]],
            "adgroup": adgroups[ad["adgroup_id"]],
            "ad": ad,
        }
        if any(objects[lvl][f"{lvl}_id"] not in ids for lvl, ids in query.id_filters):
            continue
        if any(_is_deleted(objects[lvl]) not in keep for lvl, keep in query.status_filters):
            continue
        if (
            query.buying_types is not None
            and data.buying_type(ad["ad_id"]) not in query.buying_types
        ):
            continue
        row_id = (
            advertiser_id
            if query.level == "advertiser"
            else objects[query.level][f"{query.level}_id"]
        )
        if row_id not in attributes and attribute_names & set(query.metrics):
            attributes[row_id] = _attributes(
                query.level,
                advertiser,
                objects["campaign"] if query.level != "advertiser" else None,
                objects["adgroup"] if query.level in ("adgroup", "ad") else None,
                ad if query.level == "ad" else None,
            )
        secondary = model.secondary_goal_applies(ad["adgroup_id"])
        created = parse_time(ad["create_time"]).astimezone(zone).date()
        for day in _dates(max(first, created), last):
            cell = model.day_counts(ad["ad_id"], day, fields)
            if cell is None:
                continue
            day_label = f"{day.isoformat()} 00:00:00"
            for piece in model.pieces(ad["ad_id"], day, zone, cell, wanted):
                key = tuple(
                    row_id
                    if dimension in ID_DIMENSIONS
                    else day_label
                    if dimension == DAY
                    else piece.labels[dimension]
                    for dimension in query.dimensions
                )
                group = groups.get(key)
                if group is None:
                    group = groups[key] = _Group(fields)
                group.add(piece.cell, secondary)
                if query.total_metrics:
                    total.add(piece.cell, secondary)

    id_index = query.dimensions.index(query.id_dimension)
    rows = []
    for key in sorted(groups, key=_sort_key(query.dimensions)):
        group = groups[key]
        if group.value(GROSS) == 0:
            continue  # TikTok leaves out rows without delivery
        row_attributes = attributes.get(key[id_index], {})
        rows.append(
            {
                "dimensions": dict(zip(query.dimensions, key, strict=True)),
                "metrics": {
                    m: row_attributes[m] if m in attribute_names else group.render(m)
                    for m in query.metrics
                },
            }
        )
    return rows, _total_metrics(query, total, attribute_names)


def _total_metrics(query: ReportQuery, total: _Group, attribute_names: set[str]) -> dict | None:
    if not query.total_metrics:
        return None
    return {m: NO_VALUE if m in attribute_names else total.render(m) for m in query.metrics}


def run_report(
    api: FakeMarketingAPI, params: Params, *, enforce_size_limit: bool = True
) -> tuple[list[dict], dict | None]:
    """Validate a request and compute all of its rows; raises ApiError like the endpoint.

    With `advertiser_ids` (BASIC and AUDIENCE, at most 5, winning over `advertiser_id`), the
    rows of each advertiser follow one another, each in its own time zone, and their metrics
    also carry `advertiser_id`, `currency` and `timezone`. No total_metrics then.
    """
    batch = params.has("advertiser_ids")
    if batch:
        advertiser_ids = _batch_advertiser_ids(params)
    else:
        advertiser_ids = [params.string("advertiser_id", required=True) or ""]
    require_access(api.data, advertiser_ids)
    rows: list[dict] = []
    total: dict | None = None
    for advertiser_id in advertiser_ids:
        query = parse_query(params, advertiser_id, api.delivery.retired_metrics)
        limit = api.report_max_days_before_too_large
        # INFERRED: a query's size grows with its dates and with the advertisers it names.
        size = query.date_count * len(advertiser_ids)
        if enforce_size_limit and limit is not None and size > limit:
            raise ApiError(QUERY_TOO_LARGE, QUERY_TOO_LARGE_MESSAGE)
        advertiser_rows, total = _cached_compute(api, query)
        if not batch:
            return advertiser_rows, total
        advertiser = api.data.advertiser(advertiser_id) or {}
        labels = {
            "advertiser_id": advertiser_id,
            "currency": _text(advertiser.get("currency")),
            "timezone": _text(advertiser.get("timezone")),
        }
        rows += [
            {"dimensions": row["dimensions"], "metrics": {**row["metrics"], **labels}}
            for row in advertiser_rows
        ]
    return rows, None


def _batch_advertiser_ids(params: Params) -> list[str]:
    """`advertiser_ids`: 1 to 5 numeric ids, for BASIC and AUDIENCE reports only."""
    report_type = params.string("report_type")
    if report_type not in BATCH_REPORT_TYPES:
        raise invalid_param(
            f"advertiser_ids: only BASIC and AUDIENCE reports accept it, not {report_type}."
        )
    ids = id_list("advertiser_ids", params.json_list("advertiser_ids"), limit=MAX_BATCH_ADVERTISERS)
    if not ids:
        raise invalid_param("advertiser_ids: Length must be between 1 and 5.")
    return list(dict.fromkeys(ids))


def _cached_compute(api: FakeMarketingAPI, query: ReportQuery) -> tuple[list[dict], dict | None]:
    """compute() behind a small LRU keyed by everything a result depends on.

    The entity rows are part of the key (by value), so modify()/delete() or direct edits of
    the dataset invalidate naturally. Cached rows are shared: callers must not mutate them.
    """
    data, results = api.data, api.delivery.results
    advertiser = data.advertiser(query.advertiser_id)
    zone = ZoneInfo(advertiser["timezone"]) if advertiser else None
    key = (
        query,
        api.now.astimezone(zone).date() if zone else None,
        api.delivery.restatements,
        api.delivery.money_factor,
        repr(advertiser),
        repr(
            [
                row
                for level in ("campaign", "adgroup", "ad")
                for row in data.rows(level)
                if row["advertiser_id"] == query.advertiser_id
            ]
        ),
    )
    if key in results:
        results.move_to_end(key)
        return results[key]
    result = results[key] = compute(api, query)
    while len(results) > RESULT_CACHE_SIZE:
        results.popitem(last=False)
    return result


def integrated_get(call: Call) -> dict[str, Any]:
    """GET report/integrated/get/ (BASIC and AUDIENCE, synchronous)."""
    page, page_size = page_params(call.params)
    rows, total = run_report(call.api, call.params)
    data = paginate(rows, page, page_size)
    if total is not None:
        data["total_metrics"] = total
    return data


def report_rows(
    api: FakeMarketingAPI,
    advertiser_id: str,
    *,
    report_type: str,
    data_level: str,
    dimensions: Sequence[str],
    metrics: Sequence[str] | None,
    start_date: date | str | None = None,
    end_date: date | str | None = None,
    query_lifetime: bool = False,
    filtering: Sequence[dict[str, Any]] | str | None = None,
) -> list[dict]:
    """Every row (all pages) the endpoint returns for a query; see FakeMarketingAPI.report_rows."""
    values: dict[str, Any] = {
        "advertiser_id": advertiser_id,
        "report_type": report_type,
        "data_level": data_level,
        "dimensions": list(dimensions),
        "query_lifetime": query_lifetime,
    }
    if metrics is not None:
        values["metrics"] = list(metrics)
    for name, value in (("start_date", start_date), ("end_date", end_date)):
        if value is not None:
            values[name] = value.isoformat() if isinstance(value, date) else value
    if filtering is not None:
        values["filtering"] = filtering if isinstance(filtering, str) else json.dumps(filtering)
    with api.lock:
        rows, _ = run_report(api, Params(values=values), enforce_size_limit=False)
        # Values are strings, so copying the two dicts of each row is a full copy.
        return [{part: dict(row[part]) for part in ("dimensions", "metrics")} for row in rows]


def complete_report_rows(api: FakeMarketingAPI, advertiser_id: str, **query: Any) -> list[dict]:
    """Every row a complete client holds for a query: TikTok's rows plus, below advertiser
    level and unless the query filters on buying_type itself, those of the same query with
    the `buying_type` filter set to RESERVATION_TOP_VIEW (facts §17), each row once.
    """
    rows = report_rows(api, advertiser_id, **query)
    raw = query.get("filtering")
    filtering = list(json.loads(raw) if isinstance(raw, str) else raw or [])
    own_filter = any(f.get("field_name") == "buying_type" for f in filtering)
    if query["data_level"] == "AUCTION_ADVERTISER" or own_filter:
        return rows
    topview = {
        "field_name": "buying_type",
        "filter_type": "IN",
        "filter_value": '["RESERVATION_TOP_VIEW"]',
    }
    return rows + report_rows(api, advertiser_id, **{**query, "filtering": [*filtering, topview]})


ROUTES = (Route("report/integrated/get/", integrated_get),)
