"""Report pages decoded straight into typed rows: the fast path for TikTok's usual values.

A report page is about a thousand rows of some fifty metrics, each a string ("150.61",
"14482", "-"). Decoding the page into msgspec structs whose fields are typed (exact decimals,
integers, text) types every value in C, where converting each value in Python costs more than
decoding the page. Only pages that hold something else (numbers in odd notations, "1,234",
"12%", "<5", non-finite decimals) fall back to the lenient per-value path in `reports/rows.py`,
and the two paths give the same record.
"""

from __future__ import annotations

import decimal
import operator
import typing as t

import msgspec

from tap_tiktok_reporting.reports.catalog import MetricKind, metric_kind

# TikTok's "no value": as a JSON string value it becomes null before decoding. A `"-"` inside
# a longer string is escaped (`\"-\"`), so only whole values match.
_DASH_VALUES = ((b':"-"', b":null"), (b': "-"', b": null"))

_FIELD_TYPES: dict[MetricKind | None, t.Any] = {
    MetricKind.DECIMAL: t.Optional[decimal.Decimal],  # noqa: UP045 (a runtime type for msgspec)
    MetricKind.COUNT: t.Optional[int],  # noqa: UP045
    MetricKind.TEXT: t.Optional[str],  # noqa: UP045
    None: t.Optional[str],  # noqa: UP045
}
_ZERO = decimal.Decimal(0)
_OWNER = "advertiser_id"


def _struct_of(title: str, fields: list[tuple[str, t.Any]]) -> type[msgspec.Struct]:
    """A struct with one optional field per (JSON name, type); field names need not be words."""
    return msgspec.defstruct(
        title,
        [(f"f{i}", kind, None) for i, (_, kind) in enumerate(fields)],
        rename={f"f{i}": name for i, (name, _) in enumerate(fields)},
        kw_only=True,
    )


class TypedReportRows:
    """Decodes a report page with typed metrics, and reads its rows back in the record's order.

    Decimal metrics come first in the struct, so one sum per row finds a non-finite value
    (the lenient path turns those into null, and so does `metric_values`).
    """

    def __init__(self, metrics: t.Sequence[str], dimensions: t.Sequence[str]) -> None:
        names = list(dict.fromkeys(metrics))
        kinds = {name: metric_kind(name) for name in names}
        decimals = [n for n in names if kinds[n] is MetricKind.DECIMAL]
        others = [n for n in names if kinds[n] is not MetricKind.DECIMAL]
        # A batched answer says whose each row is among the metrics, asked for or not.
        owner = [] if _OWNER in names else [_OWNER]
        kinds[_OWNER] = None
        struct_order = decimals + others + owner
        self._owner_field = f"f{struct_order.index(_OWNER)}"
        self.metric_names = names
        self.text_metrics = [n for n in names if kinds[n] not in _TYPED_KINDS]
        self._decimal_count = len(decimals)
        position = {name: i for i, name in enumerate(struct_order)}
        record_order = [position[n] for n in names]
        self._in_record_order: t.Callable[[tuple[t.Any, ...]], tuple[t.Any, ...]] = (
            operator.itemgetter(*record_order)
            if len(record_order) > 1
            else lambda values: tuple(values[i] for i in record_order)
        )
        metrics_struct = _struct_of("Metrics", [(n, _FIELD_TYPES[kinds[n]]) for n in struct_order])
        dimensions_struct = _struct_of("Dimensions", [(d, _FIELD_TYPES[None]) for d in dimensions])
        row = msgspec.defstruct(
            "Row",
            [
                ("dimensions", t.Optional[dimensions_struct], None),  # noqa: UP045
                ("metrics", t.Optional[metrics_struct], None),  # noqa: UP045
            ],
        )
        data = msgspec.defstruct("Data", [("list", list[row]), ("page_info", dict, {})])
        envelope = msgspec.defstruct(
            "Envelope",
            [("code", int), ("data", data), ("message", str, ""), ("request_id", str, "")],
            kw_only=True,
        )
        self._decoder = msgspec.json.Decoder(envelope, strict=False)
        self.row_type = row
        self._missing_metrics = (None,) * len(names)
        self._missing_dimensions = (None,) * len(dimensions)

    def decode(self, content: bytes) -> dict[str, t.Any] | None:
        """The page's envelope with typed rows, or None when the page needs the lenient path."""
        for dash, null in _DASH_VALUES:
            if dash in content:
                content = content.replace(dash, null)
        try:
            envelope = self._decoder.decode(content)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        return {
            "code": envelope.code,
            "message": envelope.message,
            "request_id": envelope.request_id,
            "data": {"list": envelope.data.list, "page_info": envelope.data.page_info},
        }

    def metric_values(self, row: t.Any) -> tuple[t.Any, ...]:
        """The row's metric values in the definition's order (None where TikTok had none)."""
        metrics = row.metrics
        if metrics is None:
            return self._missing_metrics
        values = msgspec.structs.astuple(metrics)
        decimals = values[: self._decimal_count]
        try:
            finite = sum(filter(None, decimals), _ZERO).is_finite()
        except decimal.InvalidOperation:  # a signalling NaN
            finite = False
        if not finite:
            values = _without_non_finite(values, self._decimal_count)
        return self._in_record_order(values)

    def advertiser_of(self, row: t.Any) -> str | None:
        """The advertiser a row of a batched answer belongs to (typed or plain row)."""
        if row.__class__ is self.row_type:
            return None if row.metrics is None else getattr(row.metrics, self._owner_field)
        owner = (row.get("metrics") or {}).get(_OWNER)
        return None if owner is None else str(owner)

    def dimension_values(self, row: t.Any) -> tuple[t.Any, ...]:
        """The row's dimension values in the definition's order."""
        dimensions = row.dimensions
        if dimensions is None:
            return self._missing_dimensions
        return msgspec.structs.astuple(dimensions)


_TYPED_KINDS = frozenset({MetricKind.DECIMAL, MetricKind.COUNT})


def _without_non_finite(values: tuple[t.Any, ...], decimal_count: int) -> tuple[t.Any, ...]:
    """`values` with its first `decimal_count` (the decimals) nulled where not finite."""
    decimals = tuple(v if v is None or v.is_finite() else None for v in values[:decimal_count])
    return decimals + values[decimal_count:]
