"""Turning TikTok's raw values into the tap's record values (ids as strings, ISO timestamps)."""

from __future__ import annotations

import datetime
import typing as t

_UTC = datetime.timezone.utc
_TIKTOK_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def utc_timestamp(value: t.Any) -> str | None:
    """A TikTok entity time ("YYYY-MM-DD HH:MM:SS" in UTC) or epoch seconds as ISO 8601 UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, tz=_UTC).isoformat()
    text = str(value).strip()
    if text.isdigit():
        return datetime.datetime.fromtimestamp(int(text), tz=_UTC).isoformat()
    parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_UTC)
    return parsed.astimezone(_UTC).isoformat()


def parse_utc(value: str) -> datetime.datetime:
    """Parse an ISO 8601 timestamp (a bookmark); a value without a zone is taken as UTC."""
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_UTC)


def tiktok_utc_text(moment: datetime.datetime) -> str:
    """A moment in TikTok's filter format ("YYYY-MM-DD HH:MM:SS", UTC)."""
    return moment.astimezone(_UTC).strftime(_TIKTOK_TIME_FORMAT)


def id_string(value: t.Any) -> str | None:
    """An id as a string; integers are kept exact (never through a float)."""
    if value is None or value == "":
        return None
    return str(value)


def id_strings(value: t.Any) -> list[str] | None:
    """A list of ids as strings."""
    if value is None:
        return None
    return [str(v) for v in value]


Converter = t.Callable[[t.Any], t.Any]


def converters_for(schema: dict[str, t.Any]) -> dict[str, Converter]:
    """Per-property converters read off a stream schema: timestamps, ids and id lists."""
    converters: dict[str, Converter] = {}
    for name, spec in schema.get("properties", {}).items():
        types = spec.get("type", [])
        types = [types] if isinstance(types, str) else types
        if spec.get("format") == "date-time":
            converters[name] = utc_timestamp
        elif "string" in types and name.endswith("_id"):
            converters[name] = id_string
        elif "array" in types and name.endswith("_ids"):
            converters[name] = id_strings
    return converters


def convert_record(row: dict[str, t.Any], converters: dict[str, Converter]) -> dict[str, t.Any]:
    """Apply `converters` to the properties `row` has, in place; returns `row`."""
    for name, convert in converters.items():
        if name in row:
            row[name] = convert(row[name])
    return row
