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
_AS_IS = (decimal.Decimal,)  # left as objects by `msgspec.to_builtins`
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
    """Decodes report pages in two steps, and reads typed rows back as the record's values.

    `envelope` checks a page on the request thread and leaves its rows as raw JSON (a page
    waiting to be read costs its size in bytes, not its rows as objects); `rows` types them
    when the stream reads the page. The metrics struct holds the record's fields in the
    record's order, so a row's metrics become the record in one call.
    """

    def __init__(self, metrics: t.Sequence[str], dimensions: t.Sequence[str]) -> None:
        names = list(dict.fromkeys(metrics))
        kinds = {name: metric_kind(name) for name in names}
        kinds.setdefault(_OWNER, None)
        # A batched answer says whose each row is among the metrics, asked for or not. The
        # owner's field comes first, where the record has `advertiser_id`.
        struct_order = [_OWNER, *(n for n in names if n != _OWNER)]
        self._owner_field = "f0"
        self.text_metrics = [n for n in names if kinds[n] not in _TYPED_KINDS and n != _OWNER]
        metrics_struct = _struct_of("Metrics", [(n, _FIELD_TYPES[kinds[n]]) for n in struct_order])
        dimensions_struct = _struct_of("Dimensions", [(d, _FIELD_TYPES[None]) for d in dimensions])
        row = msgspec.defstruct(
            "Row",
            [
                ("dimensions", t.Optional[dimensions_struct], None),  # noqa: UP045
                ("metrics", t.Optional[metrics_struct], None),  # noqa: UP045
            ],
        )
        data = msgspec.defstruct("Data", [("list", msgspec.Raw), ("page_info", dict, {})])
        envelope = msgspec.defstruct(
            "Envelope",
            [("code", int), ("data", data), ("message", str, ""), ("request_id", str, "")],
            kw_only=True,
        )
        self._envelope_decoder = msgspec.json.Decoder(envelope, strict=False)
        self._rows_decoder = msgspec.json.Decoder(list[row], strict=False)
        self.row_type = row
        self._missing_metrics = dict.fromkeys(struct_order)
        self._missing_dimensions = (None,) * len(dimensions)

    def envelope(self, content: bytes) -> dict[str, t.Any] | None:
        """The page's envelope, its rows left as raw JSON (None: not a report page)."""
        try:
            envelope = self._envelope_decoder.decode(content)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        return {
            "code": envelope.code,
            "message": envelope.message,
            "request_id": envelope.request_id,
            "data": {"list": envelope.data.list, "page_info": envelope.data.page_info},
        }

    def rows(self, rows_json: t.Any) -> list[t.Any]:
        """The rows of `envelope`'s raw list: typed, or plain dicts where values are odd."""
        content = plain = bytes(rows_json)
        if b'"-"' in content:
            for dash, null in _DASH_VALUES:
                content = content.replace(dash, null)
        try:
            return self._rows_decoder.decode(content)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return msgspec.json.decode(plain) or []

    def metrics_of(self, row: t.Any) -> dict[str, t.Any]:
        """A typed row's metrics by name, `advertiser_id` first, then the definition's order.

        None where TikTok had no value. A non-finite decimal ("NaN") is left as it is: JSON has
        no such number, and the tap's writer writes it as null.
        """
        metrics = row.metrics
        if metrics is None:
            return dict(self._missing_metrics)
        return msgspec.to_builtins(metrics, builtin_types=_AS_IS)

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
