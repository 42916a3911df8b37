"""Custom reports from the `reports` setting: parsed into definitions, every problem reported at once."""

from __future__ import annotations

import difflib
import re
import typing as t
from dataclasses import dataclass, field

from tap_tiktok_reporting.reports.catalog import (
    ADVERTISER_DAILY_ONLY,
    ALL_ATTRIBUTES,
    ATTRIBUTES_BY_LEVEL,
    BREAKDOWN_DIMENSIONS,
    ID_DIMENSIONS,
    KNOWN_METRICS,
    LEVELS,
    NOT_IN_LIFETIME,
    TIME_DIMENSION_OF,
    TIME_DIMENSIONS,
    UNIQUE_USER_METRICS,
    Aggregation,
    ReportType,
)
from tap_tiktok_reporting.reports.definitions import ReportDefinition, ReportFilter

REPORT_KEYS = (
    "name",
    "report_type",
    "data_level",
    "dimensions",
    "aggregation",
    "metrics",
    "filters",
    "lookback_days",
)
FILTER_TYPES = (
    "IN",
    "NOT_IN",
    "CONTAIN_ANY_OF",
    "MATCH",
    "GREATER_EQUAL",
    "GREATER_THAN",
    "LOWER_EQUAL",
    "LOWER_THAN",
    "BETWEEN",
)
MAX_LOOKBACK_DAYS = 365
_STREAM_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# A metric this close to a known one is taken as a typo, not as a metric the catalog lacks.
_TYPO_SIMILARITY = 0.8


@dataclass
class ParsedReports:
    """The custom reports that passed, and what was wrong or unusual about the rest."""

    definitions: list[ReportDefinition] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _choices(values: t.Iterable[str]) -> str:
    return ", ".join(sorted(values))


def _did_you_mean(value: str, options: t.Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(options), n=1, cutoff=_TYPO_SIMILARITY)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _enum_value(raw: t.Any, enum_type: type, default: str) -> t.Any:
    text = str(default if raw is None else raw).strip().upper()
    return enum_type(text) if text in enum_type.__members__ else None


class _ReportChecker:
    """Checks one entry of `reports`, collecting messages that name the report and the field."""

    def __init__(self, index: int, entry: t.Mapping[str, t.Any], out: ParsedReports) -> None:
        self.entry = entry
        self.out = out
        name = entry.get("name")
        self.label = f"reports[{index}]" + (f" '{name}'" if isinstance(name, str) and name else "")
        self.failed = False

    def error(self, field_name: str, problem: str) -> None:
        self.failed = True
        self.out.errors.append(f"{self.label}: {field_name}: {problem}")

    def warn(self, field_name: str, problem: str) -> None:
        self.out.warnings.append(f"{self.label}: {field_name}: {problem}")

    def string_list(self, key: str) -> list[str]:
        raw = self.entry.get(key) or []
        if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
            self.error(key, "must be a list of non-empty strings")
            return []
        return list(dict.fromkeys(v.strip() for v in raw))

    def check(self, taken_names: set[str]) -> ReportDefinition | None:
        entry = self.entry
        for key in entry:
            if key not in REPORT_KEYS:
                self.error(
                    key,
                    f"unknown field{_did_you_mean(key, REPORT_KEYS)}; valid fields: {_choices(REPORT_KEYS)}",
                )

        name = entry.get("name")
        if not isinstance(name, str) or not _STREAM_NAME.match(name):
            self.error(
                "name",
                "required: lowercase letters, digits and underscores, starting with a letter",
            )
        elif name in taken_names:
            self.error(
                "name", f"'{name}' is already the name of another stream or report; pick another"
            )

        report_type = _enum_value(entry.get("report_type"), ReportType, "BASIC")
        if report_type is None:
            self.error(
                "report_type", f"'{entry.get('report_type')}' is not valid; valid: BASIC, AUDIENCE"
            )

        raw_level = str(entry.get("data_level") or "").strip().upper().removeprefix("AUCTION_")
        level = LEVELS.get(raw_level)
        if level is None:
            shown = entry.get("data_level")
            self.error(
                "data_level",
                f"{'required' if shown is None else repr(shown) + ' is not valid'}; valid: "
                f"{_choices(LEVELS)} (or with the AUCTION_ prefix)",
            )

        aggregation = _enum_value(entry.get("aggregation"), Aggregation, "DAY")
        if aggregation is None:
            self.error(
                "aggregation",
                f"'{entry.get('aggregation')}' is not valid; valid: DAY, HOUR, LIFETIME",
            )
        elif report_type is ReportType.AUDIENCE and aggregation is not Aggregation.DAY:
            self.error(
                "aggregation",
                f"{aggregation.value} is only available in BASIC reports; AUDIENCE reports are DAY only",
            )

        breakdowns = self.check_dimensions(report_type, level, aggregation)
        metrics = self.check_metrics(report_type, level, aggregation)
        filters = self.check_filters()

        lookback = entry.get("lookback_days")
        if lookback is not None and (
            isinstance(lookback, bool)
            or not isinstance(lookback, int)
            or not 0 <= lookback <= MAX_LOOKBACK_DAYS
        ):
            self.error("lookback_days", f"must be a whole number from 0 to {MAX_LOOKBACK_DAYS}")

        if self.failed or report_type is None or level is None or aggregation is None:
            return None
        return ReportDefinition(
            name=t.cast("str", name),
            report_type=report_type,
            level=level,
            aggregation=aggregation,
            breakdowns=tuple(breakdowns),
            metrics=tuple(metrics),
            filters=tuple(filters),
            lookback_days=lookback,
            description=f"Custom {report_type.value} report, {level.name} level, {aggregation.value}.",
        )

    def check_dimensions(self, report_type: t.Any, level: t.Any, aggregation: t.Any) -> list[str]:
        dimensions = self.string_list("dimensions")
        if report_type is None or level is None or aggregation is None:
            return dimensions
        allowed = BREAKDOWN_DIMENSIONS[report_type]
        if aggregation is Aggregation.LIFETIME:
            allowed = allowed - NOT_IN_LIFETIME
        time_dimension = TIME_DIMENSION_OF.get(aggregation)
        valid_here = f"valid breakdowns for a {report_type.value} {level.name} report with {aggregation.value} aggregation: {_choices(allowed) or 'none'}"
        breakdowns = []
        for dim in dimensions:
            if dim == level.id_dimension or (dim == time_dimension):
                continue  # implied anyway
            if dim in TIME_DIMENSIONS:
                wanted = (
                    "LIFETIME reports have no time dimension"
                    if time_dimension is None
                    else f"the aggregation already sets {time_dimension}"
                )
                self.error(
                    "dimensions",
                    f"'{dim}' conflicts with aggregation {aggregation.value}: {wanted}; at most one time dimension, chosen by aggregation",
                )
            elif dim in ID_DIMENSIONS:
                self.error(
                    "dimensions",
                    f"'{dim}' is the id of another level; a {level.name} report is broken down by {level.id_dimension} (implied)",
                )
            elif dim in allowed:
                breakdowns.append(dim)
            elif aggregation is Aggregation.LIFETIME and dim in BREAKDOWN_DIMENSIONS[report_type]:
                self.error(
                    "dimensions",
                    f"'{dim}' is not available in LIFETIME reports (no time, audience or country dimensions); {valid_here}",
                )
            elif (
                report_type is ReportType.BASIC and dim in BREAKDOWN_DIMENSIONS[ReportType.AUDIENCE]
            ):
                self.error(
                    "dimensions",
                    f"'{dim}' is an audience dimension, only valid in AUDIENCE reports; {valid_here}",
                )
            elif (
                report_type is ReportType.AUDIENCE and dim in BREAKDOWN_DIMENSIONS[ReportType.BASIC]
            ):
                self.error("dimensions", f"'{dim}' is only valid in BASIC reports; {valid_here}")
            else:
                every = (
                    set().union(*BREAKDOWN_DIMENSIONS.values()) | TIME_DIMENSIONS | ID_DIMENSIONS
                )
                self.error(
                    "dimensions",
                    f"unknown dimension '{dim}'{_did_you_mean(dim, every)}; {valid_here}",
                )
        return breakdowns

    def check_metrics(self, report_type: t.Any, level: t.Any, aggregation: t.Any) -> list[str]:
        metrics = self.string_list("metrics")
        if not metrics and "metrics" not in self.entry:
            self.error("metrics", 'required: a list of metric names, e.g. ["spend", "impressions"]')
        known = KNOWN_METRICS
        for metric in metrics:
            if metric not in known:
                hint = _did_you_mean(metric, known)
                if hint:
                    self.error("metrics", f"unknown metric '{metric}'{hint}")
                else:
                    self.warn(
                        "metrics",
                        f"metric '{metric}' is not in the tap's catalog; it is requested as is and emitted as a string",
                    )
            elif (
                level is not None
                and metric in ALL_ATTRIBUTES
                and metric not in ATTRIBUTES_BY_LEVEL[level.name]
            ):
                levels = [name for name, attrs in ATTRIBUTES_BY_LEVEL.items() if metric in attrs]
                self.error(
                    "metrics",
                    f"attribute metric '{metric}' is not available at the {level.name} level; levels that have it: {', '.join(levels)}",
                )
            elif metric in ADVERTISER_DAILY_ONLY and (
                (level is not None and level.name != "ADVERTISER")
                or aggregation not in (None, Aggregation.DAY)
                or report_type is ReportType.AUDIENCE
            ):
                self.error(
                    "metrics",
                    f"'{metric}' is only available in BASIC reports at the ADVERTISER level with DAY aggregation",
                )
            elif metric in UNIQUE_USER_METRICS and report_type is ReportType.AUDIENCE:
                self.error(
                    "metrics",
                    f"'{metric}' is not available in AUDIENCE reports: TikTok refuses unique-user "
                    f"metrics ({_choices(UNIQUE_USER_METRICS)}) with audience breakdowns; "
                    "use a BASIC report for them",
                )
        return metrics

    def check_filters(self) -> list[ReportFilter]:
        raw = self.entry.get("filters") or []
        if not isinstance(raw, list):
            self.error("filters", "must be a list of {field_name, filter_type, filter_value}")
            return []
        filters = []
        for position, item in enumerate(raw):
            where = f"filters[{position}]"
            if not isinstance(item, dict) or not {
                "field_name",
                "filter_type",
                "filter_value",
            } <= set(item):
                self.error(where, "needs field_name, filter_type and filter_value")
                continue
            filter_type = str(item["filter_type"]).upper()
            if filter_type not in FILTER_TYPES:
                self.error(
                    where,
                    f"filter_type '{item['filter_type']}' is not valid; valid: {', '.join(FILTER_TYPES)}",
                )
                continue
            value = item["filter_value"]
            values = value if isinstance(value, list) else [value]
            filters.append(
                ReportFilter(str(item["field_name"]), filter_type, tuple(str(v) for v in values))
            )
        return filters


def parse_custom_reports(raw: t.Any, reserved_names: t.Iterable[str]) -> ParsedReports:
    """Turn the `reports` setting into definitions; problems come back as messages, all at once."""
    out = ParsedReports()
    if raw is None:
        return out
    if not isinstance(raw, list):
        out.errors.append("reports: must be a list of report definitions")
        return out
    taken = set(reserved_names)
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            out.errors.append(f"reports[{index}]: must be an object with {', '.join(REPORT_KEYS)}")
            continue
        definition = _ReportChecker(index, entry, out).check(taken)
        if isinstance(entry.get("name"), str):
            taken.add(entry["name"])
        if definition is not None:
            out.definitions.append(definition)
    return out
