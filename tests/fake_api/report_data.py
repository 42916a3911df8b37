"""Deterministic delivery data behind report/integrated/get/: ad-days, hourly and audience splits.

Every number is a pure function of (dataset seed, ad_id, local date) plus any restatements, so
any date range can be generated lazily and the same query always gives the same answer whatever
the wall clock says. Money is kept in integer cents and play time in centiseconds so that every
split and sum is exact; formatting to TikTok's strings happens in reports.py.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

UTC = timezone.utc
FIRST_DELIVERY_DATE = date(2024, 1, 1)
LAST_DELIVERY_DATE = date(2026, 12, 31)
NO_DELIVERY_SHARE = 0.25
SECONDARY_GOAL_SHARE = 0.6

GROSS = "gross_impressions"
# Base counts per ad-day, parents before children. Each count is split over hours or audience
# segments in proportion to its parent's pieces (None: the segment weights), which keeps e.g.
# clicks <= impressions in every piece because a largest-remainder share never exceeds its cap.
SPLIT_PARENT: dict[str, str | None] = {
    GROSS: None,
    "impressions": GROSS,
    "reach": "impressions",
    "clicks": "impressions",
    "conversion": "clicks",
    "real_time_conversion": "conversion",
    "result": "clicks",
    "real_time_result": "result",
    "secondary_goal_result": "clicks",
    "video_play_actions": "impressions",
    "video_play_time": "video_play_actions",  # centiseconds; only feeds average_video_play*
    "video_watched_2s": "video_play_actions",
    "video_watched_6s": "video_watched_2s",
    "video_views_p25": "video_play_actions",
    "video_views_p50": "video_views_p25",
    "video_views_p75": "video_views_p50",
    "video_views_p100": "video_views_p75",
    "engaged_view": "video_watched_6s",
    "engaged_view_15s": "engaged_view",
    "profile_visits": "impressions",
    "likes": "impressions",
    "comments": "impressions",
    "shares": "impressions",
    "follows": "impressions",
    "clicks_on_music_disc": "impressions",
    "app_install": "clicks",
    "real_time_app_install": "app_install",
    "spend": "impressions",  # cents
    "voucher_spend": "spend",  # cents; cash_spend = spend - voucher_spend
    "billed_cost": "spend",  # cents
}
BASE_FIELDS: tuple[str, ...] = tuple(SPLIT_PARENT)
RESTATED_FIELDS = ("conversion", "real_time_conversion", "result")
MONEY_FIELDS = ("spend", "voucher_spend", "billed_cost")

AGES = ("AGE_13_17", "AGE_18_24", "AGE_25_34", "AGE_35_44", "AGE_45_54", "AGE_55_100")
GENDERS = ("MALE", "FEMALE", "NONE")
COUNTRIES = ("US", "GB", "DE", "JP")
PLATFORMS = ("ANDROID", "IPHONE", "IPAD", "PC", "OTHERS")
# Typical shares (relative); each ad-day perturbs them so splits are not all alike.
SEGMENT_PROFILE: dict[str, tuple[tuple[str, int], ...]] = {
    "country_code": tuple(zip(COUNTRIES, (50, 15, 20, 15), strict=True)),
    "age": tuple(zip(AGES, (8, 35, 28, 15, 9, 5), strict=True)),
    "gender": tuple(zip(GENDERS, (45, 50, 5), strict=True)),
    "platform": tuple(zip(PLATFORMS, (50, 35, 5, 7, 3), strict=True)),
}
# Levels of the nested split (see DeliveryModel.pieces); hours are labelled in local time.
HOUR = "stat_time_hour"
SPLIT_ORDER = ("country_code", "age", "gender", "platform")
HOURLY_SPLIT_ORDER = ("country_code", HOUR)
# Relative delivery by local hour of day.
DIURNAL = (4, 3, 2, 2, 2, 3, 5, 7, 8, 9, 9, 10, 11, 10, 9, 9, 10, 11, 13, 15, 16, 14, 10, 6)
HOUR_FORMAT = "%Y-%m-%d %H:00:00"

Cell = dict[str, int]


def apportion(total: int, weights: Sequence[int], fallback: Sequence[int]) -> list[int]:
    """Split `total` in proportion to integer weights, largest remainder, ties to the first.

    When every weight is zero the fallback weights are used; with both zero the total must be
    zero (the callers guarantee it: every chain of parents ends at the root weights).
    """
    if total == 0:
        return [0] * len(weights)
    weight_sum = sum(weights)
    if weight_sum == 0:
        weights, weight_sum = fallback, sum(fallback)
        if weight_sum == 0:
            raise ValueError("cannot split a non-zero total over zero weights")
    products = [total * weight for weight in weights]
    shares = [product // weight_sum for product in products]
    leftover = total - sum(shares)
    if leftover:
        remainders = [product % weight_sum for product in products]
        # sorted() is stable with reverse=True too, so equal remainders favour the first piece.
        for index in sorted(range(len(shares)), key=remainders.__getitem__, reverse=True)[
            :leftover
        ]:
            shares[index] += 1
    return shares


def needed_fields(names: Iterable[str]) -> tuple[str, ...]:
    """The base fields to generate for `names`, closed over split parents, in split order."""
    wanted = {GROSS}
    for name in names:
        while name is not None and name not in wanted:
            wanted.add(name)
            name = SPLIT_PARENT[name]
    return tuple(f for f in BASE_FIELDS if f in wanted)


def split_cell(cell: Cell, weights: Sequence[int]) -> list[Cell]:
    """Split one cell's counts over children with the given segment weights."""
    gross = apportion(cell[GROSS], weights, weights)
    columns = {GROSS: gross}
    for name, total in cell.items():
        if name != GROSS:
            parent = SPLIT_PARENT[name]
            columns[name] = apportion(total, weights if parent is None else columns[parent], gross)
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def local_hours(day: date, zone: ZoneInfo) -> list[tuple[str, list[int]]]:
    """The local hour labels of a day with the local clock hours (0-23) of the real hours in each.

    A spring-forward day has 23 labels; on a fall-back day the repeated hour is one label that
    covers both real hours, as TikTok labels hours by local wall-clock time.
    """
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    labels: dict[str, list[int]] = {}
    moment = start
    while moment < end:
        local = moment.astimezone(zone)
        labels.setdefault(local.strftime(HOUR_FORMAT), []).append(local.hour)
        moment += timedelta(hours=1)
    return list(labels.items())


@dataclass(frozen=True)
class Piece:
    """A part of one ad-day: its split labels (e.g. {"country_code": "US", "age": ...}) and counts."""

    labels: dict[str, str]
    cell: Cell


class DeliveryModel:
    """Per ad-day delivery, generated on demand from the seed and cached; plus restatements."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._days: dict[tuple[str, date], tuple[int, ...] | None] = {}
        self._restated: dict[date, int] = {}
        self._secondary: dict[str, bool] = {}
        self.money_factor = 1
        self.retired_metrics: frozenset[str] = frozenset()
        # Recent report results, so paging through a big report does not recompute it per page.
        self.results: OrderedDict[Hashable, Any] = OrderedDict()

    # ----- knobs -----

    def restate(self, days: Iterable[date], extra_conversions: int) -> None:
        """Add conversions (and real-time conversions and results) to every delivered ad-day."""
        if extra_conversions < 0:
            raise ValueError("extra_conversions must be >= 0")
        for day in days:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"restate() takes dates, got {day!r}")
            self._restated[day] = self._restated.get(day, 0) + extra_conversions

    def scale_money(self, factor: int) -> None:
        """Multiply every money amount by `factor` (a whole number, so sums stay exact).

        A factor like 123456789012347 turns a spend of 299.87 into "37020987321132494.89",
        whose digits a binary float cannot hold: clients must keep such values exact.
        """
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
            raise ValueError("scale_money() takes a whole number >= 1")
        self.money_factor = factor

    def retire_metric(self, name: str) -> None:
        """Make the report endpoint refuse `name` (40002, TikTok's wording) wherever it is asked."""
        self.retired_metrics = self.retired_metrics | {name}

    @property
    def restatements(self) -> tuple[tuple[date, int], ...]:
        """Extra conversions per local date, as a hashable snapshot."""
        return tuple(sorted(self._restated.items()))

    # ----- generation -----

    def day_counts(self, ad_id: str, day: date, fields: Sequence[str]) -> Cell | None:
        """The ad's counts for one local date (only `fields`), or None when it did not deliver."""
        key = (ad_id, day)
        if key not in self._days:
            self._days[key] = self._generate(ad_id, day)
        values = self._days[key]
        if values is None:
            return None
        cell = {name: values[BASE_INDEX[name]] for name in fields}
        if self.money_factor != 1:
            for name in MONEY_FIELDS:
                if name in cell:
                    cell[name] *= self.money_factor
        extra = self._restated.get(day, 0)
        if extra:
            for name in RESTATED_FIELDS:
                if name in cell:
                    cell[name] += extra
        return cell

    def secondary_goal_applies(self, adgroup_id: str) -> bool:
        """Whether an ad group has a secondary goal; without one TikTok shows '-'."""
        if adgroup_id not in self._secondary:
            rng = random.Random(f"{self.seed}:{adgroup_id}:secondary-goal")
            self._secondary[adgroup_id] = rng.random() < SECONDARY_GOAL_SHARE
        return self._secondary[adgroup_id]

    def _generate(self, ad_id: str, day: date) -> tuple[int, ...] | None:
        rng = random.Random(f"{self.seed}:{ad_id}:{day.isoformat()}")
        if rng.random() < NO_DELIVERY_SHARE:
            return None

        def part(whole: int, low: int, high: int, per: int = 100) -> int:
            return whole * rng.randint(low, high) // per

        impressions = rng.randint(200, 30000)
        clicks = part(impressions, 2, 40, 1000)
        conversion = part(clicks, 0, 25)
        real_time_conversion = part(conversion, 70, 100)
        extra_results = part(clicks, 0, 10)
        plays = part(impressions, 30, 80)
        watched_2s = part(plays, 50, 90)
        watched_6s = part(watched_2s, 30, 80)
        p25 = part(plays, 40, 80)
        p50 = part(p25, 50, 90)
        p75 = part(p50, 50, 90)
        engaged = part(watched_6s, 20, 60)
        app_install = part(clicks, 0, 20)
        spend = part(impressions, 20, 150)
        values = {
            GROSS: impressions + part(impressions, 0, 5),
            "impressions": impressions,
            "reach": part(impressions, 55, 95),
            "clicks": clicks,
            "conversion": conversion,
            "real_time_conversion": real_time_conversion,
            "result": conversion + extra_results,
            "real_time_result": real_time_conversion + extra_results,
            "secondary_goal_result": part(clicks, 0, 15),
            "video_play_actions": plays,
            "video_play_time": plays * rng.randint(200, 900),
            "video_watched_2s": watched_2s,
            "video_watched_6s": watched_6s,
            "video_views_p25": p25,
            "video_views_p50": p50,
            "video_views_p75": p75,
            "video_views_p100": part(p75, 50, 90),
            "engaged_view": engaged,
            "engaged_view_15s": part(engaged, 20, 60),
            "profile_visits": part(impressions, 0, 10, 1000),
            "likes": part(impressions, 0, 30, 1000),
            "comments": part(impressions, 0, 3, 1000),
            "shares": part(impressions, 0, 3, 1000),
            "follows": part(impressions, 0, 2, 1000),
            "clicks_on_music_disc": part(impressions, 0, 2, 1000),
            "app_install": app_install,
            "real_time_app_install": part(app_install, 70, 100),
            "spend": spend,
            "voucher_spend": 0 if rng.random() < 0.6 else part(spend, 1, 30),
            "billed_cost": spend,
        }
        return tuple(values[name] for name in BASE_FIELDS)

    # ----- splits -----

    def pieces(
        self, ad_id: str, day: date, zone: ZoneInfo, cell: Cell, wanted: Iterable[str]
    ) -> list[Piece]:
        """Split an ad-day deep enough to label every breakdown in `wanted`.

        Splits always nest in the order of SPLIT_ORDER (hours take the audience levels' place,
        as no report has both), and a query splits down to its deepest wanted level. So an
        hourly row is a sum over countries and a gender row a sum over countries and ages,
        which is what keeps every combination consistent with every other.
        """
        wanted = set(wanted)
        order = HOURLY_SPLIT_ORDER if HOUR in wanted else SPLIT_ORDER
        depth = max((order.index(level) + 1 for level in wanted), default=0)
        if depth == 0:
            return [Piece({}, cell)]
        rng = random.Random(f"{self.seed}:{ad_id}:{day.isoformat()}:split")
        # Draw every level's weights whatever is asked, so one level's weights never depend on
        # which other breakdowns a query happens to use.
        weights = {
            level: [(value, share * rng.randint(50, 150)) for value, share in profile]
            for level, profile in SEGMENT_PROFILE.items()
        }
        if HOUR in wanted:
            hours = local_hours(day, zone)
            weights[HOUR] = [
                (label, sum(DIURNAL[hour] * rng.randint(80, 120) for hour in clock))
                for label, clock in hours
            ]
        result = [Piece({}, cell)]
        for level in order[:depth]:
            values = [value for value, _ in weights[level]]
            level_weights = [weight for _, weight in weights[level]]
            result = [
                Piece({**piece.labels, level: value}, part)
                for piece in result
                for value, part in zip(values, split_cell(piece.cell, level_weights), strict=True)
            ]
        return result


BASE_INDEX = {name: index for index, name in enumerate(BASE_FIELDS)}


def ratio(numerator: int, denominator: int, scale: Fraction | int = 1) -> str:
    """numerator * scale / denominator with 2 decimals, half up; '0.00' for a zero denominator."""
    if denominator == 0:
        return "0.00"
    # An int has a numerator and a denominator too (itself and 1).
    top = numerator * scale.numerator * 100
    bottom = denominator * scale.denominator
    return cents_text((2 * top + bottom) // (2 * bottom))


def cents_text(cents: int) -> str:
    """Format a non-negative whole number of hundredths with 2 decimals."""
    return f"{cents // 100}.{cents % 100:02d}"
