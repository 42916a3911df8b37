"""Deterministic GMV Max data: TikTok Shop stores, GMV Max campaigns and their daily delivery.

Derived from the dataset's advertisers (their order and ids) and the spec's seed only, so the
dataset itself is untouched. By advertiser position (0, 1, 2, then again):

- 0: two stores it holds the exclusive GMV Max authorization of (one ACTIVE, one INACTIVE),
  and one store authorized to another ad account (visible, not reportable);
- 1: one store of its own, and one store authorized to nobody (not reportable);
- 2: no store at all.

Each store of its own has Product campaigns (delivering, disabled, not delivering, deleted) and
LIVE campaigns (delivering, deleted). Daily numbers are a pure function of (seed, campaign,
local date) plus restatements; money is kept in integer cents so every value is exact.
"""

from __future__ import annotations

import random
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from .dataset import format_time

if TYPE_CHECKING:
    from .server import FakeMarketingAPI

UTC = timezone.utc
PRODUCT = "PRODUCT"
LIVE = "LIVE"
CAMPAIGN_TYPE_NAMES = {PRODUCT: "PRODUCT_GMV_MAX", LIVE: "LIVE_GMV_MAX"}
# (operation_status, secondary_status) of each campaign a store gets, by type.
CAMPAIGN_PLAN = (
    (PRODUCT, "ENABLE", "CAMPAIGN_STATUS_ENABLE"),
    (PRODUCT, "DISABLE", "CAMPAIGN_STATUS_DISABLE"),
    (PRODUCT, "ENABLE", "CAMPAIGN_STATUS_TIKTOK_SHOP_UNAVAILABLE"),
    (PRODUCT, "DISABLE", "CAMPAIGN_STATUS_DELETE"),
    (LIVE, "ENABLE", "CAMPAIGN_STATUS_ENABLE"),
    (LIVE, "DISABLE", "CAMPAIGN_STATUS_DELETE"),
)
PRIMARY_STATUS = {
    "CAMPAIGN_STATUS_ENABLE": "STATUS_DELIVERY_OK",
    "CAMPAIGN_STATUS_DISABLE": "STATUS_DISABLE",
    "CAMPAIGN_STATUS_TIKTOK_SHOP_UNAVAILABLE": "STATUS_NOT_DELIVERY",
    "CAMPAIGN_STATUS_DELETE": "STATUS_DELETE",
}
CREATE_START = datetime(2024, 6, 1, tzinfo=UTC)
CREATE_SPAN_SECONDS = 270 * 86400
LAST_DELIVERY_DATE = date(2026, 12, 31)
NO_DELIVERY_SHARE = 0.2
NO_ORDER_SHARE = 0.15
RESTATED_ORDER_PRICE_CENTS = 1999
CENT = Decimal("0.01")


@dataclass
class GmvCampaign:
    """One GMV Max campaign: its `/gmv_max/campaign/get/` row and what only the report shows."""

    row: dict[str, Any]
    store_id: str
    promotion: str  # PRODUCT or LIVE
    attributes: dict[str, str]

    @property
    def campaign_id(self) -> str:
        return self.row["campaign_id"]

    @property
    def primary_status(self) -> str:
        return PRIMARY_STATUS[self.row["secondary_status"]]

    @property
    def created(self) -> datetime:
        return datetime.strptime(self.row["create_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


@dataclass
class GmvMaxWorld:
    """Every advertiser's stores and campaigns, and the knobs tests turn."""

    stores: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    campaigns: list[GmvCampaign] = field(default_factory=list)
    seed: int = 0
    #: Extra orders added to every delivering campaign-day on these local dates.
    restatements: dict[date, int] = field(default_factory=dict)

    def store(self, advertiser_id: str, store_id: str) -> dict[str, Any] | None:
        """One store as the advertiser sees it, or None."""
        return next(
            (s for s in self.stores.get(advertiser_id, []) if s["store_id"] == store_id), None
        )

    def reportable(self, advertiser_id: str, store_id: str) -> bool:
        """Whether the advertiser holds the store's exclusive GMV Max authorization."""
        store = self.store(advertiser_id, store_id)
        exclusive = (store or {}).get("exclusive_authorized_advertiser_info") or {}
        return bool(store and store["is_gmv_max_available"]) and (
            exclusive.get("advertiser_id") == advertiser_id
        )

    def campaigns_of(self, advertiser_id: str) -> list[GmvCampaign]:
        """The advertiser's campaigns, campaign id descending."""
        return sorted(
            (c for c in self.campaigns if c.row["advertiser_id"] == advertiser_id),
            key=lambda c: int(c.campaign_id),
            reverse=True,
        )

    def restate(self, days: list[date], extra_orders: int) -> None:
        """Add `extra_orders` orders to every delivering campaign-day of those dates."""
        for day in days:
            self.restatements[day] = self.restatements.get(day, 0) + extra_orders

    def day_cents(self, campaign: GmvCampaign, day: date) -> dict[str, int] | None:
        """One campaign-day's base numbers (money in cents), or None without delivery."""
        rng = random.Random(f"{self.seed}|gmv|{campaign.campaign_id}|{day.isoformat()}")
        if rng.random() < NO_DELIVERY_SHARE:
            return None
        cost = rng.randint(500, 250_000)
        orders = 0 if rng.random() < NO_ORDER_SHARE else rng.randint(1, 400)
        revenue = orders * rng.randint(800, 6000)
        extra = self.restatements.get(day, 0)
        numbers = {
            "cost": cost,
            "net_cost": cost - rng.randint(0, cost // 10),
            "orders": orders + extra,
            "gross_revenue": revenue + extra * RESTATED_ORDER_PRICE_CENTS,
        }
        if campaign.promotion == LIVE:
            views = rng.randint(0, 60_000)
            ten_second = rng.randint(0, views)
            numbers |= {
                "live_views": views,
                "10_second_live_views": ten_second,
                "live_follows": rng.randint(0, ten_second // 20),
            }
        return numbers


def money(cents: int) -> str:
    """Cents as TikTok's money text ("9387.58")."""
    return str((Decimal(cents) * CENT).quantize(CENT))


def ratio(numerator: int, denominator: int, scale: Decimal = Decimal(1)) -> str:
    """numerator / denominator rounded half up to 2 places; "0.00" for a zero denominator."""
    if denominator == 0:
        return "0.00"
    value = Decimal(numerator) * scale / Decimal(denominator)
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


_WORLDS: weakref.WeakKeyDictionary[FakeMarketingAPI, GmvMaxWorld] = weakref.WeakKeyDictionary()


def gmv_max_world(api: FakeMarketingAPI) -> GmvMaxWorld:
    """The API's GMV Max data, generated on first use."""
    with api.lock:
        world = _WORLDS.get(api)
        if world is None:
            world = _WORLDS[api] = _generate(api)
        return world


def _new_id(rng: random.Random, used: set[str]) -> str:
    while True:
        candidate = str(rng.randint(7_000_000_000_000_000_000, 7_499_999_999_999_999_999))
        if candidate not in used:
            used.add(candidate)
            return candidate


def _generate(api: FakeMarketingAPI) -> GmvMaxWorld:
    seed = api.spec.seed
    rng = random.Random(f"{seed}|gmv_max")
    used: set[str] = set()
    world = GmvMaxWorld(seed=seed)
    for index, advertiser in enumerate(api.data.advertisers):
        advertiser_id = advertiser["advertiser_id"]
        stores: list[dict[str, Any]] = []
        pattern = index % 3
        own = {0: 2, 1: 1, 2: 0}[pattern]
        for number in range(own):
            store = _store(rng, used, index, number, advertiser)
            store["store_status"] = "ACTIVE" if number == 0 else "INACTIVE"
            stores.append(store)
            for plan_index, plan in enumerate(CAMPAIGN_PLAN):
                world.campaigns.append(_campaign(rng, used, advertiser_id, store, plan_index, plan))
        if pattern == 0:
            other = _store(rng, used, index, 9, None)
            other["exclusive_authorized_advertiser_info"] = {
                "advertiser_id": _new_id(rng, used),
                "advertiser_name": "Another Seller's Ad Account",
                "advertiser_status": "STATUS_ENABLE",
            }
            stores.append(other)
        elif pattern == 1:
            stores.append(_store(rng, used, index, 8, None))  # authorized to nobody yet
        world.stores[advertiser_id] = stores
    return world


def _store(
    rng: random.Random,
    used: set[str],
    advertiser_index: int,
    number: int,
    exclusive_to: dict[str, Any] | None,
) -> dict[str, Any]:
    """A store row; null fields are left out, as TikTok drops them from this answer."""
    store_id = _new_id(rng, used)
    bc_id = _new_id(rng, used)
    row: dict[str, Any] = {
        "store_id": store_id,
        "store_name": f"Fake Shop {advertiser_index + 1}-{number + 1}",
        "store_code": f"US{rng.randrange(16**8):08X}",
        "store_status": "ACTIVE",
        "store_role": "AD_PROMOTION" if exclusive_to else "MANAGER",
        "is_gmv_max_available": exclusive_to is not None,
        "store_authorized_bc_id": bc_id,
        "is_owner_bc": number == 0,
        "store_authorized_bc_info": {
            "bc_id": bc_id,
            "bc_name": f"Fake Shop BC {advertiser_index + 1}",
            "bc_profile_image": f"https://example.com/bc/{bc_id}.png",
            "user_role": "ADMIN",
        },
        "thumbnail_url": f"https://example.com/shop/{store_id}.png",
        "targeting_region_codes": ["US"] if number % 2 == 0 else ["US", "GB"],
    }
    if exclusive_to is not None:
        row["exclusive_authorized_advertiser_info"] = {
            "advertiser_id": exclusive_to["advertiser_id"],
            "advertiser_name": exclusive_to["name"],
            "advertiser_status": exclusive_to["status"],
        }
    return row


def _campaign(
    rng: random.Random,
    used: set[str],
    advertiser_id: str,
    store: dict[str, Any],
    plan_index: int,
    plan: tuple[str, str, str],
) -> GmvCampaign:
    promotion, operation_status, secondary_status = plan
    created = CREATE_START + timedelta(seconds=rng.randrange(CREATE_SPAN_SECONDS))
    modified = created + timedelta(seconds=rng.randrange(200 * 86400))
    campaign_id = _new_id(rng, used)
    name = f"{'LIVE' if promotion == LIVE else 'Product'} GMV Max {plan_index + 1} · {store['store_name']}"
    row = {
        "advertiser_id": advertiser_id,
        "campaign_id": campaign_id,
        "campaign_name": name,
        "operation_status": operation_status,
        "create_time": format_time(created),
        "modify_time": format_time(modified),
        "objective_type": "PRODUCT_SALES",
        "secondary_status": secondary_status,
        "roi_protection_compensation_status": rng.choice(("IN_EFFECT", "NOT_ELIGIBLE")),
    }
    custom = rng.random() < 0.5
    attributes = {
        "campaign_id": campaign_id,
        "campaign_name": name,
        "operation_status": operation_status,
        "schedule_type": "Continuously",
        "schedule_start_time": format_time(created),
        "schedule_end_time": "-",
        "bid_type": "CUSTOM" if custom else "NO_BID",
        "target_roi_budget": money(rng.randint(5_000, 500_000)) if custom else "-",
        "max_delivery_budget": "-" if custom else money(rng.randint(5_000, 500_000)),
        "roas_bid": f"{rng.randint(150, 900) / 100:.2f}" if custom else "0.00",
    }
    if promotion == LIVE:
        identity = _new_id(rng, used)
        attributes |= {
            "tt_account_name": f"fakeshop_live_{identity[-4:]}",
            "tt_account_profile_image_url": f"https://example.com/avatar/{identity}.jpg",
            "identity_id": identity,
        }
    return GmvCampaign(row, store["store_id"], promotion, attributes)
