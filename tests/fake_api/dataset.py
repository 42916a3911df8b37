"""Deterministic fake advertisers, campaigns, ad groups and ads, generated from a DatasetSpec."""

from __future__ import annotations

import copy
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from .entity_fields import extra_fields

UTC = timezone.utc
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

LEVELS = ("campaign", "adgroup", "ad")
ID_FIELD = {"campaign": "campaign_id", "adgroup": "adgroup_id", "ad": "ad_id"}
LEVEL_ALIASES = {"campaign": "campaign", "adgroup": "adgroup", "ad_group": "adgroup", "ad": "ad"}
DELETED_STATUS = {
    "campaign": "CAMPAIGN_STATUS_DELETE",
    "adgroup": "ADGROUP_STATUS_DELETE",
    "ad": "AD_STATUS_DELETE",
}
BUYING_TYPES = ("AUCTION", "RESERVATION_RF", "RESERVATION_TOP_VIEW")

# (operation_status, secondary_status) pairs for objects that are not deleted.
LIVE_STATUSES = {
    "campaign": (
        ("ENABLE", "CAMPAIGN_STATUS_ENABLE"),
        ("DISABLE", "CAMPAIGN_STATUS_DISABLE"),
        ("ENABLE", "CAMPAIGN_STATUS_BUDGET_EXCEED"),
    ),
    "adgroup": (
        ("ENABLE", "ADGROUP_STATUS_DELIVERY_OK"),
        ("DISABLE", "ADGROUP_STATUS_DISABLE"),
        ("ENABLE", "ADGROUP_STATUS_NOT_START"),
        ("ENABLE", "ADGROUP_STATUS_TIME_DONE"),
    ),
    "ad": (
        ("ENABLE", "AD_STATUS_DELIVERY_OK"),
        ("DISABLE", "AD_STATUS_DISABLE"),
        ("ENABLE", "AD_STATUS_DONE"),
    ),
}
PRIMARY_STATUS_OF = {
    "CAMPAIGN_STATUS_ENABLE": "STATUS_DELIVERY_OK",
    "CAMPAIGN_STATUS_DISABLE": "STATUS_DISABLE",
    "CAMPAIGN_STATUS_BUDGET_EXCEED": "STATUS_NOT_DELIVERY",
    "ADGROUP_STATUS_DELIVERY_OK": "STATUS_DELIVERY_OK",
    "ADGROUP_STATUS_DISABLE": "STATUS_DISABLE",
    "ADGROUP_STATUS_NOT_START": "STATUS_NOT_DELIVERY",
    "ADGROUP_STATUS_TIME_DONE": "STATUS_TIME_DONE",
    "AD_STATUS_DELIVERY_OK": "STATUS_DELIVERY_OK",
    "AD_STATUS_DISABLE": "STATUS_DISABLE",
    "AD_STATUS_DONE": "STATUS_TIME_DONE",
}

ADVERTISER_LOCALES = (
    # timezone, currency, country, language, city
    ("America/Los_Angeles", "USD", "US", "en", "Los Angeles"),
    ("Asia/Tokyo", "JPY", "JP", "ja", "東京"),
    ("Europe/Berlin", "EUR", "DE", "de", "Berlin"),
    ("Etc/GMT", "GBP", "GB", "en", "London"),
    ("Australia/Sydney", "AUD", "AU", "en", "Sydney"),
    ("America/Sao_Paulo", "BRL", "BR", "pt", "São Paulo"),
)
ADVERTISER_FIELDS = (
    "advertiser_id",
    "name",
    "currency",
    "timezone",
    "display_timezone",
    "status",
    "role",
    "company",
    "country",
    "language",
    "industry",
    "balance",
    "create_time",
    "description",
    "email",
    "telephone_number",
    "advertiser_account_type",
    "owner_bc_id",
    "address",
    "license_no",
    "license_url",
    "rejection_reason",
    "contacter",
    "cellphone_number",
)
CAMPAIGN_FIELDS = (
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "campaign_type",
    "objective_type",
    "objective",
    "budget",
    "budget_mode",
    "budget_optimize_on",
    "operation_status",
    "secondary_status",
    "create_time",
    "modify_time",
    "is_new_structure",
    "is_smart_performance_campaign",
    "campaign_automation_type",
    "roas_bid",
    "deep_bid_type",
    "optimization_goal",
    "special_industries",
    "app_promotion_type",
    "rf_campaign_type",
)
ADGROUP_FIELDS = (
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "create_time",
    "modify_time",
    "budget",
    "budget_mode",
    "scheduled_budget",
    "schedule_type",
    "schedule_start_time",
    "schedule_end_time",
    "operation_status",
    "secondary_status",
    "placement_type",
    "placements",
    "optimization_goal",
    "billing_event",
    "bid_type",
    "bid_price",
    "conversion_bid_price",
    "pacing",
    "promotion_type",
    "location_ids",
    "age_groups",
    "gender",
    "languages",
    "click_attribution_window",
    "view_attribution_window",
    "rf_purchased_type",
    "purchased_impression",
)
AD_FIELDS = (
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "ad_id",
    "ad_name",
    "create_time",
    "modify_time",
    "operation_status",
    "secondary_status",
    "ad_format",
    "ad_text",
    "call_to_action",
    "landing_page_url",
    "video_id",
    "image_ids",
    "is_aco",
    "is_new_structure",
    "identity_id",
    "display_name",
)
FIELDS = {"campaign": CAMPAIGN_FIELDS, "adgroup": ADGROUP_FIELDS, "ad": AD_FIELDS}

CREATE_START = datetime(2024, 1, 1, tzinfo=UTC)
CREATE_SPAN_SECONDS = int((datetime(2025, 6, 30, tzinfo=UTC) - CREATE_START).total_seconds())
MODIFY_END = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
# Later than any generated create_time, so objects can share them (bookmark ties).
SHARED_MODIFY_TIMES = (
    datetime(2026, 2, 1, 12, 0, 0, tzinfo=UTC),
    datetime(2026, 3, 15, 8, 30, 0, tzinfo=UTC),
)
ID_LENGTHS = (16, 17, 18, 19)


@dataclass(frozen=True)
class BusinessCenterSpec:
    """A Business Center (BC) the token's user belongs to, and the advertisers it holds."""

    #: Advertisers only this BC reaches: not authorized to the app, yet readable by the token.
    own_advertisers: int = 0
    #: How many of the advertisers authorized to the app (the first ones) the BC also holds.
    authorized_advertisers: int = 0

    def __post_init__(self) -> None:
        if self.own_advertisers < 0 or self.authorized_advertisers < 0:
            raise ValueError("a Business Center's advertiser counts must be >= 0")


@dataclass(frozen=True)
class BusinessCenter:
    """One generated BC: its `bc_info` as /bc/get/ returns it, and its advertisers in order."""

    bc_id: str
    info: dict[str, Any]
    advertiser_ids: tuple[str, ...]
    #: The advertisers this BC owns (the rest it holds as a partner).
    owned_advertiser_ids: frozenset[str]


@dataclass(frozen=True)
class DatasetSpec:
    """Shape of the generated account tree; the same spec always yields the same data."""

    seed: int = 1
    advertisers: int = 3
    campaigns_per_advertiser: int = 4
    adgroups_per_campaign: int = 2
    ads_per_adgroup: int = 3
    deleted_fraction: float = 0.25
    topview_fraction: float = 0.1
    no_modify_time_ads: int = 1
    rf_fraction: float = 0.1
    #: Business Centers; their own advertisers come after the `advertisers` authorized ones.
    business_centers: tuple[BusinessCenterSpec, ...] = ()

    @property
    def total_advertisers(self) -> int:
        """Authorized advertisers plus those only a Business Center reaches."""
        return self.advertisers + sum(bc.own_advertisers for bc in self.business_centers)

    def __post_init__(self) -> None:
        for name in (
            "advertisers",
            "campaigns_per_advertiser",
            "adgroups_per_campaign",
            "ads_per_adgroup",
            "no_modify_time_ads",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("deleted_fraction", "topview_fraction", "rf_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        if any(bc.authorized_advertisers > self.advertisers for bc in self.business_centers):
            raise ValueError("a Business Center cannot hold more authorized advertisers than exist")


def format_time(moment: datetime) -> str:
    """Format a datetime as TikTok's UTC 'YYYY-MM-DD HH:MM:SS'."""
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """Parse TikTok's 'YYYY-MM-DD HH:MM:SS' (UTC); raises ValueError on any other shape."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def primary_status(row: dict[str, Any]) -> str:
    """Derive the primary status of an entity row from its secondary status."""
    secondary = row.get("secondary_status", "")
    if secondary.endswith("_DELETE"):
        return "STATUS_DELETE"
    return PRIMARY_STATUS_OF.get(secondary, "STATUS_NOT_DELIVERY")


def _fraction_count(total: int, fraction: float) -> int:
    """Number of objects a fraction selects: at least one whenever the fraction is non-zero."""
    if total == 0 or fraction == 0:
        return 0
    return min(total, max(1, round(total * fraction)))


def _sort_key(row: dict[str, Any], id_field: str) -> int:
    return int(row[id_field])


class Dataset:
    """All objects the fake serves; rows are stored exactly as the get endpoints return them."""

    def __init__(self, spec: DatasetSpec, lock: threading.RLock | None = None) -> None:
        self.spec = spec
        self.lock = lock or threading.RLock()
        self._rng = random.Random(spec.seed)
        self._used_ids: set[str] = set()
        self._id_counter = 0
        self._advertisers: list[dict[str, Any]] = []
        self._rows: dict[str, dict[str, dict[str, Any]]] = {level: {} for level in LEVELS}
        self._buying_type: dict[str, str] = {}
        self._business_centers: list[BusinessCenter] = []
        self._generate()
        # Read live by the endpoints, so tests may mutate it to take access away.
        self.authorized_advertiser_ids: list[str] = [
            a["advertiser_id"] for a in self._advertisers[: spec.advertisers]
        ]

    # ----- public read access (copies, so callers cannot corrupt server state) -----

    @property
    def advertisers(self) -> list[dict[str, Any]]:
        """Every advertiser row (BC-only ones last) as /advertiser/info/ returns it by default."""
        with self.lock:
            return copy.deepcopy(self._advertisers)

    @property
    def business_centers(self) -> list[BusinessCenter]:
        """The Business Centers the token's user belongs to, in /bc/get/ order."""
        with self.lock:
            return copy.deepcopy(self._business_centers)

    def business_center(self, bc_id: str) -> BusinessCenter | None:
        """A Business Center the token's user belongs to, by id, or None."""
        return next((bc for bc in self._business_centers if bc.bc_id == bc_id), None)

    @property
    def readable_advertiser_ids(self) -> set[str]:
        """Advertisers the token may read: those authorized to the app and those of its BCs."""
        reached = (a for bc in self._business_centers for a in bc.advertiser_ids)
        return {*self.authorized_advertiser_ids, *reached}

    @property
    def campaigns(self) -> list[dict[str, Any]]:
        """Every campaign, deleted and TopView included, sorted by id descending."""
        return self.snapshot("campaign")

    @property
    def ad_groups(self) -> list[dict[str, Any]]:
        """Every ad group, deleted and TopView included, sorted by id descending."""
        return self.snapshot("adgroup")

    @property
    def ads(self) -> list[dict[str, Any]]:
        """Every ad, deleted and TopView included, sorted by id descending."""
        return self.snapshot("ad")

    def snapshot(self, level: str) -> list[dict[str, Any]]:
        """Deep copy of all rows of one level, sorted by id descending."""
        with self.lock:
            return copy.deepcopy(self.rows(level))

    def rows(self, level: str) -> list[dict[str, Any]]:
        """Live rows of one level, id descending; callers hold the lock and do not mutate."""
        id_field = ID_FIELD[level]
        return sorted(
            self._rows[level].values(), key=lambda row: _sort_key(row, id_field), reverse=True
        )

    def advertiser(self, advertiser_id: str) -> dict[str, Any] | None:
        """Live advertiser row by id, or None."""
        return next((a for a in self._advertisers if a["advertiser_id"] == advertiser_id), None)

    def buying_type(self, object_id: str) -> str:
        """Buying type of a campaign, ad group or ad (kept even where the row has no such field)."""
        return self._buying_type[object_id]

    # ----- mutations used by incremental-sync tests -----

    def modify(self, level: str, object_id: str, *, at: datetime, **changes: Any) -> dict[str, Any]:
        """Apply field changes to one object and set its modify_time; returns a copy of the row."""
        level = _normalize_level(level)
        protected = {"advertiser_id", "campaign_id", "adgroup_id", "ad_id", "modify_time"}
        if protected & changes.keys():
            raise ValueError(f"cannot change {sorted(protected & changes.keys())} via modify()")
        with self.lock:
            row = self._row(level, object_id)
            row.update(changes)
            row["modify_time"] = format_time(_as_utc(at))
            self._propagate_names(level, row)
            return copy.deepcopy(row)

    def delete(self, level: str, object_id: str, *, at: datetime) -> dict[str, Any]:
        """Mark one object deleted the way TikTok shows it (children are left untouched)."""
        level = _normalize_level(level)
        return self.modify(
            level,
            object_id,
            at=at,
            operation_status="DISABLE",
            secondary_status=DELETED_STATUS[level],
        )

    def _row(self, level: str, object_id: str) -> dict[str, Any]:
        try:
            return self._rows[level][str(object_id)]
        except KeyError:
            raise KeyError(f"no {level} with id {object_id}") from None

    def _propagate_names(self, level: str, row: dict[str, Any]) -> None:
        """Children carry their parents' names; keep them in step after a rename."""
        name_field = {"campaign": "campaign_name", "adgroup": "adgroup_name"}.get(level)
        if name_field is None:
            return
        id_field = ID_FIELD[level]
        for child_level in LEVELS[LEVELS.index(level) + 1 :]:
            for child in self._rows[child_level].values():
                if child[id_field] == row[id_field]:
                    child[name_field] = row[name_field]

    # ----- generation -----

    def _new_id(self) -> str:
        """A unique numeric string; lengths cycle 16..19 digits, 19-digit ones lie above 2**62."""
        while True:
            length = ID_LENGTHS[self._id_counter % len(ID_LENGTHS)]
            lead = self._rng.randint(5, 8) if length == 19 else self._rng.randint(1, 9)
            candidate = str(lead) + str(self._rng.randrange(10 ** (length - 1))).zfill(length - 1)
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                self._id_counter += 1
                return candidate

    def _later(self, moment: datetime, max_days: int) -> datetime:
        return moment + timedelta(seconds=self._rng.randrange(max_days * 86400))

    def _modify_time(self, created: datetime, index: int) -> datetime:
        if index % 4 == 0:
            return SHARED_MODIFY_TIMES[(index // 4) % len(SHARED_MODIFY_TIMES)]
        return min(self._later(created, 500), MODIFY_END)

    def _generate(self) -> None:
        spec = self.spec
        self._advertisers = [self._make_advertiser(i) for i in range(spec.total_advertisers)]
        campaigns = [
            self._make_campaign(advertiser, i)
            for advertiser in self._advertisers
            for i in range(spec.campaigns_per_advertiser)
        ]
        self._assign_buying_types(campaigns)
        adgroups = [
            self._make_adgroup(c, i) for c in campaigns for i in range(spec.adgroups_per_campaign)
        ]
        ads = [self._make_ad(g, i) for g in adgroups for i in range(spec.ads_per_adgroup)]
        for index, row in enumerate(adgroups):
            self._finish_adgroup(row, index)
        for level, rows in (("campaign", campaigns), ("adgroup", adgroups), ("ad", ads)):
            self._assign_statuses(level, rows)
            for index, row in enumerate(rows):
                created = datetime.strptime(row["create_time"], TIME_FORMAT).replace(tzinfo=UTC)
                row["modify_time"] = format_time(self._modify_time(created, index))
                # The other documented fields, derived from the id (no random numbers drawn).
                row.update(extra_fields(level, row, self._buying_type[row[ID_FIELD[level]]]))
                self._rows[level][row[ID_FIELD[level]]] = row
        for ad in self._rng.sample(ads, min(spec.no_modify_time_ads, len(ads))):
            # Smart+ ads come back without modify_time at all.
            del ad["modify_time"]
        # Last, so that a spec without Business Centers draws the same numbers as before.
        self._make_business_centers()

    def _make_business_centers(self) -> None:
        next_own = self.spec.advertisers
        for index, bc_spec in enumerate(self.spec.business_centers):
            bc_id = self._new_id()
            owned = self._advertisers[next_own : next_own + bc_spec.own_advertisers]
            next_own += bc_spec.own_advertisers
            for advertiser in owned:
                advertiser["owner_bc_id"] = bc_id
            shared = self._advertisers[: bc_spec.authorized_advertisers]
            # Null fields are dropped from /bc/get/ answers, so organization_type is left out.
            info = {
                "bc_id": bc_id,
                "name": f"Fake Agency BC {index + 1}",
                "company": f"Fake Agency {index + 1}",
                "currency": "USD",
                "registered_area": "US",
                "status": "ENABLE",
                "timezone": "Etc/GMT",
                "type": "AGENCY",
            }
            self._business_centers.append(
                BusinessCenter(
                    bc_id=bc_id,
                    info=info,
                    advertiser_ids=tuple(a["advertiser_id"] for a in (*owned, *shared)),
                    owned_advertiser_ids=frozenset(a["advertiser_id"] for a in owned),
                )
            )

    def _make_advertiser(self, index: int) -> dict[str, Any]:
        tz, currency, country, language, city = ADVERTISER_LOCALES[index % len(ADVERTISER_LOCALES)]
        ZoneInfo(tz)  # fail fast if the platform lacks tz data
        rng = self._rng
        created = datetime(2019, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(4 * 365 * 86400)
        )
        return {
            "advertiser_id": self._new_id(),
            "name": f"Fake Advertiser {index + 1} ({city})",
            "currency": currency,
            "timezone": tz,
            "display_timezone": tz,
            "status": "STATUS_ENABLE",
            "role": "ROLE_ADVERTISER",
            "company": f"Fake Company {index + 1}",
            "country": country,
            "language": language,
            "industry": str(rng.choice((290101, 290904, 291403))),
            "balance": round(rng.uniform(0, 50000), 2),
            "create_time": int(created.timestamp()),
            "description": "",
            "email": f"a{index}***@example.com",
            "telephone_number": f"+1 *** *** {rng.randrange(100):02d}",
            "advertiser_account_type": "AUCTION",
            "owner_bc_id": self._new_id(),
            "address": f"{index + 1} Fake Street, {city}",
            "license_no": "",
            "license_url": "",
            "rejection_reason": "",
            "contacter": "F*** C***",
            "cellphone_number": f"+1 *** *** {rng.randrange(100):02d}",
        }

    def _make_campaign(self, advertiser: dict[str, Any], index: int) -> dict[str, Any]:
        rng = self._rng
        created = CREATE_START + timedelta(seconds=rng.randrange(CREATE_SPAN_SECONDS))
        objective_type = rng.choice(
            ("TRAFFIC", "WEB_CONVERSIONS", "APP_PROMOTION", "VIDEO_VIEWS", "REACH")
        )
        budget_mode = rng.choice(("BUDGET_MODE_INFINITE", "BUDGET_MODE_DAY", "BUDGET_MODE_TOTAL"))
        automation = "SMART_PLUS" if index % 5 == 3 else "MANUAL"
        name_word = ("Spring Sale", "春のセール", "Été promo", "Always-on")[index % 4]
        return {
            "advertiser_id": advertiser["advertiser_id"],
            "campaign_id": self._new_id(),
            "campaign_name": f"{name_word} #{index + 1}",
            "campaign_type": "REGULAR_CAMPAIGN",
            "objective_type": objective_type,
            "objective": "APP" if objective_type == "APP_PROMOTION" else "LANDING_PAGE",
            "budget": 0.0
            if budget_mode == "BUDGET_MODE_INFINITE"
            else round(rng.uniform(50, 5000), 2),
            "budget_mode": budget_mode,
            "budget_optimize_on": budget_mode != "BUDGET_MODE_INFINITE" and rng.random() < 0.5,
            "operation_status": "ENABLE",
            "secondary_status": "CAMPAIGN_STATUS_ENABLE",
            "create_time": format_time(created),
            "modify_time": format_time(created),
            "is_new_structure": True,
            "is_smart_performance_campaign": automation == "SMART_PLUS",
            "campaign_automation_type": automation,
            "roas_bid": 0.0,
            "deep_bid_type": rng.choice((None, "DEFAULT", "VO_MIN_ROAS")),
            "optimization_goal": rng.choice(("CLICK", "CONVERT", "REACH", "VIDEO_VIEW")),
            "special_industries": rng.choice(([], [], ["HOUSING"], ["CREDIT", "EMPLOYMENT"])),
            "app_promotion_type": "APP_INSTALL" if objective_type == "APP_PROMOTION" else "UNSET",
        }

    def _assign_buying_types(self, campaigns: list[dict[str, Any]]) -> None:
        rng = self._rng
        topview = set(
            rng.sample(
                range(len(campaigns)), _fraction_count(len(campaigns), self.spec.topview_fraction)
            )
        )
        rest = [i for i in range(len(campaigns)) if i not in topview]
        reach_frequency = set(rng.sample(rest, _fraction_count(len(rest), self.spec.rf_fraction)))
        for index, row in enumerate(campaigns):
            if index in topview:
                buying_type, rf_type = "RESERVATION_TOP_VIEW", "TOPVIEW"
            elif index in reach_frequency:
                buying_type, rf_type = "RESERVATION_RF", "STANDARD"
            else:
                self._buying_type[row["campaign_id"]] = "AUCTION"
                continue
            # Reservation campaigns use the RF_REACH objective; only they carry rf_campaign_type.
            row.update(
                objective_type="RF_REACH",
                objective="LANDING_PAGE",
                rf_campaign_type=rf_type,
                budget_optimize_on=False,
                campaign_automation_type="MANUAL",
                is_smart_performance_campaign=False,
            )
            self._buying_type[row["campaign_id"]] = buying_type

    def _make_adgroup(self, campaign: dict[str, Any], index: int) -> dict[str, Any]:
        rng = self._rng
        created = self._later(
            datetime.strptime(campaign["create_time"], TIME_FORMAT).replace(tzinfo=UTC), 30
        )
        start = self._later(created, 10)
        cbo = campaign["budget_optimize_on"]
        budget_mode = (
            "BUDGET_MODE_INFINITE" if cbo else rng.choice(("BUDGET_MODE_DAY", "BUDGET_MODE_TOTAL"))
        )
        schedule_type = rng.choice(("SCHEDULE_START_END", "SCHEDULE_FROM_NOW"))
        end = (
            start + timedelta(days=rng.randint(7, 90))
            if schedule_type == "SCHEDULE_START_END"
            else start + timedelta(days=3650)
        )
        bid_type = rng.choice(("BID_TYPE_NO_BID", "BID_TYPE_CUSTOM"))
        row = {
            "advertiser_id": campaign["advertiser_id"],
            "campaign_id": campaign["campaign_id"],
            "campaign_name": campaign["campaign_name"],
            "adgroup_id": self._new_id(),
            "adgroup_name": f"Ad group {index + 1} of {campaign['campaign_name']}",
            "create_time": format_time(created),
            "modify_time": format_time(created),
            "budget": 0.0 if cbo else round(rng.uniform(20, 1000), 2),
            "budget_mode": budget_mode,
            "scheduled_budget": 0.0,
            "schedule_type": schedule_type,
            "schedule_start_time": format_time(start),
            "schedule_end_time": format_time(end),
            "operation_status": "ENABLE",
            "secondary_status": "ADGROUP_STATUS_DELIVERY_OK",
            "placement_type": rng.choice(("PLACEMENT_TYPE_AUTOMATIC", "PLACEMENT_TYPE_NORMAL")),
            "placements": rng.choice(
                (["PLACEMENT_TIKTOK"], ["PLACEMENT_TIKTOK", "PLACEMENT_PANGLE"])
            ),
            "optimization_goal": rng.choice(("CLICK", "CONVERT", "REACH", "SHOW")),
            "billing_event": rng.choice(("CPC", "OCPM", "CPM")),
            "bid_type": bid_type,
            "bid_price": 0.0 if bid_type == "BID_TYPE_NO_BID" else round(rng.uniform(0.1, 5), 2),
            "conversion_bid_price": 0.0,
            "pacing": rng.choice(("PACING_MODE_SMOOTH", "PACING_MODE_FAST")),
            "promotion_type": rng.choice(("WEBSITE", "APP_ANDROID", "APP_IOS")),
            "location_ids": rng.choice((["6252001"], ["1861060", "2921044"], ["2635167"])),
            "age_groups": rng.choice((["AGE_18_24", "AGE_25_34"], ["AGE_35_44"], [])),
            "gender": rng.choice(("GENDER_UNLIMITED", "GENDER_FEMALE", "GENDER_MALE")),
            "languages": rng.choice((["en"], ["ja", "en"], [])),
            "click_attribution_window": rng.choice(("SEVEN_DAYS", "ONE_DAY", "TWENTY_EIGHT_DAYS")),
            "view_attribution_window": rng.choice(("ONE_DAY", "OFF", "SEVEN_DAYS")),
        }
        self._buying_type[row["adgroup_id"]] = self._buying_type[campaign["campaign_id"]]
        return row

    def _finish_adgroup(self, row: dict[str, Any], index: int) -> None:
        if self._buying_type[row["adgroup_id"]] != "AUCTION":
            # Reservation ad groups are bought by impressions; auction ones have no such fields.
            row.update(
                rf_purchased_type="FIXED_IMPRESSION",
                purchased_impression=1000 * (index + 1),
                billing_event="CPM",
                bid_type="BID_TYPE_CUSTOM",
            )

    def _make_ad(self, adgroup: dict[str, Any], index: int) -> dict[str, Any]:
        rng = self._rng
        created = self._later(
            datetime.strptime(adgroup["create_time"], TIME_FORMAT).replace(tzinfo=UTC), 30
        )
        ad_format = rng.choice(("SINGLE_VIDEO", "SINGLE_IMAGE", "CAROUSEL_ADS"))
        row = {
            "advertiser_id": adgroup["advertiser_id"],
            "campaign_id": adgroup["campaign_id"],
            "campaign_name": adgroup["campaign_name"],
            "adgroup_id": adgroup["adgroup_id"],
            "adgroup_name": adgroup["adgroup_name"],
            "ad_id": self._new_id(),
            "ad_name": f"Ad {index + 1} · {adgroup['adgroup_name']}",
            "create_time": format_time(created),
            "modify_time": format_time(created),
            "operation_status": "ENABLE",
            "secondary_status": "AD_STATUS_DELIVERY_OK",
            "ad_format": ad_format,
            "ad_text": rng.choice(
                ("Shop now and save", "Jetzt entdecken", "今すぐチェック", 'Don\'t miss "this"')
            ),
            "call_to_action": rng.choice(("LEARN_MORE", "SHOP_NOW", "DOWNLOAD_NOW")),
            "landing_page_url": f"https://example.com/landing/{index + 1}?utm_source=tiktok",
            "video_id": f"v10033g50000{rng.randrange(16**16):016x}"
            if ad_format == "SINGLE_VIDEO"
            else None,
            "image_ids": [
                f"ad-site-i18n-sg/{rng.randrange(16**12):012x}" for _ in range(rng.randint(0, 2))
            ],
            "is_aco": rng.random() < 0.2,
            "is_new_structure": True,
            "identity_id": self._new_id(),
            "display_name": f"Fake Brand {index % 3 + 1}",
        }
        self._buying_type[row["ad_id"]] = self._buying_type[adgroup["adgroup_id"]]
        return row

    def _assign_statuses(self, level: str, rows: list[dict[str, Any]]) -> None:
        deleted = set(
            self._rng.sample(
                range(len(rows)), _fraction_count(len(rows), self.spec.deleted_fraction)
            )
        )
        for index, row in enumerate(rows):
            if index in deleted:
                row["operation_status"], row["secondary_status"] = "DISABLE", DELETED_STATUS[level]
            else:
                row["operation_status"], row["secondary_status"] = self._rng.choice(
                    LIVE_STATUSES[level]
                )


def _normalize_level(level: str) -> str:
    try:
        return LEVEL_ALIASES[level]
    except KeyError:
        raise ValueError(f"unknown level {level!r}; use one of {sorted(LEVEL_ALIASES)}") from None


def _as_utc(moment: datetime) -> datetime:
    """Treat naive datetimes as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
