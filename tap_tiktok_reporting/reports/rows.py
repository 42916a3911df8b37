"""A report's schema and the flattening and typing of its rows, both read from the catalog."""

from __future__ import annotations

import datetime
import decimal
import typing as t
import zoneinfo

from singer_sdk import typing as th

from tap_tiktok_reporting.conversions import Converter
from tap_tiktok_reporting.reports.catalog import MetricKind, dimension_kind, metric_kind

if t.TYPE_CHECKING:
    from tap_tiktok_reporting.reports.definitions import ReportDefinition
    from tap_tiktok_reporting.reports.pages import TypedReportRows

# TikTok's ways of saying "no value" ("-" for non-aggregable values, "<5" for tiny counts).
_NON_VALUES = frozenset({"", "-", "--", "N/A", "n/a", "null", "None"})


def to_decimal(value: t.Any) -> decimal.Decimal | None:
    """A money, rate or average value as an exact decimal; non-values become None."""
    # TikTok's usual "12.34" goes straight to Decimal; anything else takes the lenient path.
    if value.__class__ is str and value not in _NON_VALUES:
        try:
            number = decimal.Decimal(value)
        except decimal.InvalidOperation:
            return _lenient_decimal(value)
        return number if number.is_finite() else None
    return _lenient_decimal(value)


def _lenient_decimal(value: t.Any) -> decimal.Decimal | None:
    """A decimal out of anything TikTok may send: numbers, "1,234", "12%", " - "."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().rstrip("%").replace(",", "")
    if text in _NON_VALUES:
        return None
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return None
    return number if number.is_finite() else None


def to_count(value: t.Any) -> int | None:
    """A count as an integer; non-values (and non-integral text) become None."""
    if value.__class__ is str:
        try:
            return int(value)  # TikTok's usual "5830"
        except ValueError:
            pass
    number = to_decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def to_text(value: t.Any) -> str | None:
    """A text value; TikTok's "-" becomes None."""
    if value is None:
        return None
    text = str(value)
    return None if text.strip() in _NON_VALUES else text


def to_date(value: t.Any) -> str | None:
    """`stat_time_day` ("YYYY-MM-DD 00:00:00", advertiser-local) as a date."""
    text = to_text(value)
    return text[:10] if text else None


def hour_converter(time_zone: datetime.tzinfo) -> Converter:
    """`stat_time_hour` (advertiser-local, no zone) as a timestamp carrying the UTC offset."""

    def to_local_timestamp(value: t.Any) -> str | None:
        text = to_text(value)
        if not text:
            return None
        local = datetime.datetime.fromisoformat(text)
        return local.replace(tzinfo=time_zone).isoformat()

    return to_local_timestamp


_METRIC_CONVERTERS: dict[MetricKind | None, Converter] = {
    MetricKind.COUNT: to_count,
    MetricKind.DECIMAL: to_decimal,
    MetricKind.TEXT: to_text,
    None: to_text,
}
_METRIC_TYPES: dict[MetricKind | None, th.JSONTypeHelper] = {
    MetricKind.COUNT: th.IntegerType(),
    MetricKind.DECIMAL: th.NumberType(),
    MetricKind.TEXT: th.StringType(),
    None: th.StringType(),
}
_DIMENSION_TYPES: dict[str, th.JSONTypeHelper] = {
    "date": th.DateType(),
    "hour": th.DateTimeType(),
    "string": th.StringType(),
}


def report_schema(definition: ReportDefinition) -> dict:
    """Flat schema: `advertiser_id`, the dimensions, then one typed column per metric."""
    keys = set(definition.primary_keys)
    properties = [th.Property("advertiser_id", th.StringType(), required=True)]
    properties += [
        th.Property(dim, _DIMENSION_TYPES[dimension_kind(dim)], required=dim in keys)
        for dim in definition.dimensions
        if dim != "advertiser_id"
    ]
    properties += [
        th.Property(metric, _METRIC_TYPES[metric_kind(metric)])
        for metric in definition.metrics
        if metric not in keys
    ]
    return th.PropertiesList(*properties).to_dict()


class ReportRowFlattener:
    """Turns TikTok's `{"dimensions": {...}, "metrics": {...}}` into one typed flat record."""

    def __init__(self, definition: ReportDefinition, time_zone: datetime.tzinfo) -> None:
        dimension_converters: dict[str, Converter] = {
            "date": to_date,
            "hour": hour_converter(time_zone),
        }
        self._dimensions = [
            (dim, dimension_converters.get(dimension_kind(dim), to_text))
            for dim in definition.dimensions
        ]
        self._metrics = [(m, _METRIC_CONVERTERS[metric_kind(m)]) for m in definition.metrics]

    def flatten_page(
        self, rows: list[t.Any], advertiser_id: str, typed: TypedReportRows
    ) -> list[dict[str, t.Any]]:
        """A page's records, from typed rows (`typed.rows`) or from plain JSON rows."""
        if rows and rows[0].__class__ is typed.row_type:
            return [self.flatten_typed(row, advertiser_id, typed) for row in rows]
        return [self.flatten(row, advertiser_id) for row in rows]

    def flatten_typed(
        self, row: t.Any, advertiser_id: str, typed: TypedReportRows
    ) -> dict[str, t.Any]:
        """`flatten` for a row decoded by `typed`, whose numbers are typed already."""
        record = typed.metrics_of(row)
        for name in typed.text_metrics:
            value = record[name]
            if value is not None and value.strip() in _NON_VALUES:
                record[name] = None
        for (name, convert), value in zip(
            self._dimensions, typed.dimension_values(row), strict=True
        ):
            record[name] = convert(value)
        record["advertiser_id"] = advertiser_id  # whatever the row said, as `flatten` does
        return record

    def flatten(self, row: dict[str, t.Any], advertiser_id: str) -> dict[str, t.Any]:
        """One record: the advertiser, every dimension, every requested metric (None if absent)."""
        dims = row.get("dimensions") or {}
        metrics = row.get("metrics") or {}
        record: dict[str, t.Any] = {"advertiser_id": advertiser_id}
        for name, convert in self._metrics:
            record[name] = convert(metrics.get(name))
        for name, convert in self._dimensions:
            record[name] = convert(dims.get(name))
        record["advertiser_id"] = advertiser_id  # the query's (or the batch row's owner)
        return record


def advertiser_time_zone(profile: t.Mapping[str, t.Any]) -> datetime.tzinfo | None:
    """An advertiser's zone from `/advertiser/info/`: `display_timezone`, else `timezone`."""
    for key in ("display_timezone", "timezone"):
        name = profile.get(key)
        if not name:
            continue
        try:
            return zoneinfo.ZoneInfo(str(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return None
