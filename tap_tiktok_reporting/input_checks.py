"""Checks on what the user hands the tap (config, state, catalog), read as plain data.

Each problem is one line naming the culprit and what would be valid. Errors stop the tap
before any request; warnings let the sync go on. Nothing here echoes a secret's value.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import json
import re
import typing as t
import urllib.parse
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from singer_sdk.singerlib import Catalog

InputFileRole = t.Literal["config", "state", "catalog"]

DATE_EXAMPLE = "2025-01-31"
API_ROOT_EXAMPLE = "https://business-api.tiktok.com/open_api/v1.3"
TIKTOK_ID_EXAMPLE = '"7000000000000000001"'
_DATE_PREFIX = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]+")

# What each file should hold, said the same way in every refusal.
_FILE_SHAPES: dict[str, str] = {
    "config": 'an object of settings, like {"start_date": "2025-01-01", ...}',
    "state": 'an object, like {"bookmarks": {...}} from a previous run',
    "catalog": 'an object with a "streams" list, as tap-tiktok --discover writes',
}


class InputFileError(ValueError):
    """A config, state or catalog file the tap cannot use; the message is the line to show."""


@dataclasses.dataclass(frozen=True)
class ConfigProblems:
    """What is wrong with a config: errors stop the tap, warnings do not."""

    errors: list[str]
    warnings: list[str]


def load_input_file(path: str, role: InputFileRole) -> str:
    """The text of a config, state or catalog file, once it is known to hold what it should."""
    label = f"{role.capitalize()} file '{path}'"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{label} was not found: check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise InputFileError(f"{label} cannot be read ({reason})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        # The decoder's message gives the position only, never the file's content.
        raise InputFileError(
            f"{label} is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}): "
            f"it should hold {_FILE_SHAPES[role]}"
        ) from None
    if not isinstance(value, dict):
        raise InputFileError(
            f"{label} holds a JSON {_json_type(value)}, not an object: "
            f"it should hold {_FILE_SHAPES[role]}"
        )
    problem = _state_problem(value) if role == "state" else None
    problem = _catalog_problem(value) if role == "catalog" else problem
    if problem:
        raise InputFileError(f"{label}: {problem}")
    return text


def _state_problem(state: Mapping[str, t.Any]) -> str | None:
    """Why a Singer state cannot be loaded, if it cannot."""
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict) or not all(isinstance(v, dict) for v in bookmarks.values()):
        return 'bookmarks should be an object of streams\' bookmarks, like {"campaigns": {...}}'
    return None


def _catalog_problem(catalog: Mapping[str, t.Any]) -> str | None:
    """Why a Singer catalog cannot be loaded, if it cannot."""
    streams = catalog.get("streams")
    if not isinstance(streams, list):
        return f"it has no list of streams: it should hold {_FILE_SHAPES['catalog']}"
    for index, entry in enumerate(streams):
        if not isinstance(entry, dict) or not isinstance(entry.get("tap_stream_id"), str):
            return (
                f"streams[{index}] has no tap_stream_id: regenerate it with tap-tiktok --discover"
            )
    return None


def config_problems(config: Mapping[str, t.Any], known_settings: Collection[str]) -> ConfigProblems:
    """Everything wrong with a config that its JSON Schema cannot say, all at once."""
    errors: list[str] = []
    dates = {}
    for name in ("start_date", "end_date"):
        value = config.get(name)
        if value is None:
            continue
        parsed, problem = _parse_date(name, value)
        errors += [problem] if problem else []
        dates[name] = parsed
    start, end = dates.get("start_date"), dates.get("end_date")
    if start and end and end < start:
        errors.append(
            f"end_date {end} is before start_date {start}: set end_date on or after "
            "start_date, or leave it out to read up to today"
        )
    if problem := _api_base_url_problem(config.get("api_base_url")):
        errors.append(problem)
    errors += _id_problems("advertiser_ids", config.get("advertiser_ids"), "an advertiser")
    errors += _id_problems(
        "business_center_ids", config.get("business_center_ids"), "a Business Center"
    )
    return ConfigProblems(errors=errors, warnings=_unknown_setting_warnings(config, known_settings))


def _parse_date(name: str, value: t.Any) -> tuple[datetime.date | None, str | None]:
    """A date setting's date, or why it is not one (a full ISO date-time is accepted too)."""
    if not isinstance(value, str):
        return None, None  # the JSON Schema already names a value of the wrong type
    text = value.strip()
    fix = f"write it as YYYY-MM-DD, e.g. {DATE_EXAMPLE}"
    if not _DATE_PREFIX.match(text):
        return None, f"{name} {value!r} is not a date: {fix}"
    try:
        date = datetime.date.fromisoformat(text[:10])
    except ValueError as exc:
        return None, f"{name} {value!r} is not a real date ({exc}): {fix}"
    if len(text) > 10:
        # Meltano's date settings may carry a time, which the tap ignores; it must still parse.
        try:
            datetime.datetime.fromisoformat(text.removesuffix("Z"))
        except ValueError:
            return None, f"{name} {value!r} is not a date: {fix}"
    return date, None


def _api_base_url_problem(value: t.Any) -> str | None:
    """Why `api_base_url` is not an http(s) URL, if it is set and is not."""
    if not isinstance(value, str) or not value.strip():
        return None  # unset (empty means unset), or a wrong type the JSON Schema names
    parts = urllib.parse.urlsplit(value.strip())
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number
        valid = False
    if valid:
        return None
    shown = _without_userinfo(value.strip())
    # Most often the scheme was left out, as in `localhost:8080`.
    example = API_ROOT_EXAMPLE if "://" in shown else f"http://{shown}"
    return f"api_base_url {shown!r} is not an http(s) URL: write it like {example}"


def _without_userinfo(url: str) -> str:
    """`url` with any user:password@ part masked: a proxy password must not be printed."""
    return re.sub(r"(?<=://)[^/@]*@", "***@", url)


def _id_problems(setting: str, ids: t.Any, kind: str) -> list[str]:
    """One line per entry of an id list setting that is not a TikTok id (a string of digits)."""
    if not isinstance(ids, list):
        return []  # unset, or a wrong type the JSON Schema names
    problems = []
    for index, value in enumerate(ids):
        digits = isinstance(value, (str, int)) and not isinstance(value, bool)
        if digits and _DIGITS.fullmatch(str(value).strip()):
            continue
        problems.append(
            f"{setting}[{index}] {value!r} is not {kind} id: TikTok's ids are "
            f"strings of digits, e.g. {TIKTOK_ID_EXAMPLE}"
        )
    return problems


def _unknown_setting_warnings(
    config: Mapping[str, t.Any], known_settings: Collection[str]
) -> list[str]:
    """A warning per setting the tap does not know, with the close known name if any."""
    warnings = []
    for name in config:
        # `_`-prefixed keys are orchestrator extras (Meltano's `_select` and the like).
        if name in known_settings or name.startswith("_"):
            continue
        close = difflib.get_close_matches(name, list(known_settings), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        warnings.append(f"Unknown setting {name!r} is ignored{hint}")
    return warnings


def unselectable_stream_warnings(catalog: Catalog, stream_names: Collection[str]) -> list[str]:
    """A warning per stream the catalog selects that this tap does not have."""
    warnings = []
    for entry in catalog.streams:
        if entry.tap_stream_id in stream_names:
            continue
        # No metadata at all means selected, as the SDK reads it.
        if entry.metadata.resolve_selection().get((), not entry.metadata):
            warnings.append(
                f"The catalog selects stream {entry.tap_stream_id!r}, which this tap does not "
                "have; it is ignored (see tap-tiktok --discover for the streams there are)"
            )
    return warnings


def start_date_after_today_warning(
    config: Mapping[str, t.Any], advertiser_todays: Mapping[str, datetime.date]
) -> str | None:
    """A warning when `start_date` is after today for every advertiser: no report date is due."""
    start, _ = _parse_date("start_date", config.get("start_date"))
    if start is None or not advertiser_todays:
        return None
    latest_today = max(advertiser_todays.values())
    if start <= latest_today:
        return None
    return (
        f"start_date {start} is after today in every advertiser's time zone (latest: "
        f"{latest_today}): report streams have no dates to read until then"
    )


def _json_type(value: t.Any) -> str:
    """The JSON name of a parsed JSON value's type."""
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
