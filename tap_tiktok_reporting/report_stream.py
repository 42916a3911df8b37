"""The one report stream class: every built-in and custom report is an instance of it."""

from __future__ import annotations

import dataclasses
import datetime
import typing as t

from tap_tiktok_reporting.client import AdvertiserPartitionedStream
from tap_tiktok_reporting.date_windows import DateWindow, date_windows, report_range
from tap_tiktok_reporting.errors import (
    PARAMETER_ERROR,
    QUERY_TOO_LARGE,
    ErrorDetails,
    TikTokAPIError,
)
from tap_tiktok_reporting.report_definitions import ReportDefinition, ReportFilter
from tap_tiktok_reporting.report_rows import ReportRowFlattener, report_schema
from tap_tiktok_reporting.settings import DEFAULT_LOOKBACK_DAYS

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_tiktok_reporting.tap import TapTikTok


class QueryTooLargeError(TikTokAPIError):
    """TikTok's 40067: the window must shrink."""


class ReportStream(AdvertiserPartitionedStream):
    """Rows of one report definition, per advertiser, in the widest date windows TikTok allows.

    Incremental reports keep a date bookmark per advertiser: the last date fully fetched. Each
    run re-reads from the bookmark less the lookback, so late-attributed conversions are
    refreshed; lifetime reports are full-table snapshots.
    """

    path = "report/integrated/get/"

    def __init__(self, tap: TapTikTok, definition: ReportDefinition) -> None:
        self.definition = definition
        super().__init__(tap, name=definition.name, schema=report_schema(definition))
        self.primary_keys = list(definition.primary_keys)
        self.replication_key = definition.time_dimension
        self._flatteners: dict[str, ReportRowFlattener] = {}

    @property
    def lookback_days(self) -> int:
        """The report's own lookback, else the `lookback_days` setting."""
        if self.definition.lookback_days is not None:
            return self.definition.lookback_days
        return int(self.config.get("lookback_days", DEFAULT_LOOKBACK_DAYS))

    @property
    def window_days(self) -> int:
        """Dates per request: TikTok's cap for the grain, or `report_window_days` if smaller."""
        configured = int(self.config.get("report_window_days", self.definition.max_window_days))
        return max(1, min(configured, self.definition.max_window_days))

    # Requests

    def request_params(self, context: Context | None) -> dict[str, t.Any]:
        """The report query for one advertiser and (unless lifetime) one date window."""
        context = context or {}
        definition = self.definition
        params: dict[str, t.Any] = {
            "advertiser_id": context["advertiser_id"],
            "report_type": definition.report_type.value,
            "data_level": definition.level.api_name,
            "dimensions": list(definition.dimensions),
            "metrics": list(definition.metrics),
        }
        if definition.is_lifetime:
            params["query_lifetime"] = True
        else:
            params["start_date"] = context["start_date"]
            params["end_date"] = context["end_date"]
        if filtering := self.filtering():
            params["filtering"] = filtering
        return params

    def filtering(self) -> list[dict[str, str]]:
        """The report's filters, plus the level's `STATUS_ALL` when deleted objects are wanted."""
        filters = list(self.definition.filters)
        status_field = self.definition.level.status_filter
        wants_deleted = self.config.get("include_deleted", True)
        if wants_deleted and status_field and all(f.field_name != status_field for f in filters):
            filters.append(ReportFilter(status_field, "IN", ("STATUS_ALL",)))
        return [f.to_api() for f in filters]

    def permanent_error(self, details: ErrorDetails) -> Exception:
        """Name the report in TikTok's refusals; 40067 becomes a signal to shrink the window."""
        if details.code == QUERY_TOO_LARGE:
            return QueryTooLargeError(details)
        if details.code == PARAMETER_ERROR:
            hint = f"TikTok rejected report '{self.name}': fix its definition as the message says"
            return TikTokAPIError(dataclasses.replace(details, hint=hint))
        return TikTokAPIError(details)

    # Records

    def flattener(self, advertiser_id: str) -> ReportRowFlattener:
        """Row flattener in the advertiser's time zone (hourly stamps carry its offset)."""
        if advertiser_id not in self._flatteners:
            zone = self.tiktok_tap.advertiser_time_zones[advertiser_id]
            self._flatteners[advertiser_id] = ReportRowFlattener(self.definition, zone)
        return self._flatteners[advertiser_id]

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Lifetime: one query. Otherwise each due window, checkpointing the bookmark after it."""
        context = dict(context or {})
        advertiser_id = context["advertiser_id"]
        flattener = self.flattener(advertiser_id)
        if self.definition.is_lifetime:
            for row in self.request_records(context):
                yield flattener.flatten(row, advertiser_id)
            return
        due = self.due_range(context)
        if due is None:
            return
        for window in date_windows(due.start, due.end, self.window_days):
            for row in self.window_rows(context, window):
                yield flattener.flatten(row, advertiser_id)
            self.checkpoint(context, window.end)

    def window_rows(self, context: Context, window: DateWindow) -> t.Iterable[dict[str, t.Any]]:
        """Rows of one window, halving it while TikTok says the query is too large."""
        # Rows an attempt emitted before TikTok refused a later page are skipped when its
        # halves are read again; a finished attempt's rows cannot recur in other windows.
        already_emitted: set[tuple[t.Any, ...]] = set()
        pending = [window]
        while pending:
            current = pending.pop(0)
            window_context = {
                **context,
                "start_date": current.start.isoformat(),
                "end_date": current.end.isoformat(),
            }
            attempt: set[tuple[t.Any, ...]] = set()
            try:
                for row in self.request_records(window_context):
                    key = tuple((row.get("dimensions") or {}).values())
                    if key not in already_emitted:
                        attempt.add(key)
                        yield row
            except QueryTooLargeError:
                if current.days == 1:
                    raise
                already_emitted |= attempt
                self.logger.warning(
                    "TikTok found %s..%s too large for report %s; splitting the window",
                    current.start,
                    current.end,
                    self.name,
                )
                pending[:0] = current.halves()

    def due_range(self, context: Context) -> DateWindow | None:
        """Dates to read for this advertiser now."""
        bookmark_value = self.get_starting_replication_key_value(context)
        bookmark = datetime.date.fromisoformat(str(bookmark_value)[:10]) if bookmark_value else None
        end_date = self.config.get("end_date")
        return report_range(
            start_date=datetime.date.fromisoformat(str(self.config["start_date"])[:10]),
            end_date=datetime.date.fromisoformat(str(end_date)[:10]) if end_date else None,
            bookmark=bookmark,
            lookback_days=self.lookback_days,
            today=self.tiktok_tap.advertiser_today(context["advertiser_id"]),
        )

    # State

    def checkpoint(self, context: Context, last_date: datetime.date) -> None:
        """Advance the advertiser's bookmark to the last fully fetched date and emit state."""
        state = self.get_context_state({"advertiser_id": context["advertiser_id"]})
        previous = state.get("replication_key_value")
        if previous and str(previous)[:10] > last_date.isoformat():
            return  # a lookback re-read never moves the bookmark back
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = last_date.isoformat()
        # Written now, not at the end: an interrupted run resumes after the last full window.
        self.state_manager.is_flushed = False
        self._write_state_message()

    def _increment_stream_state(
        self, latest_record: dict, *, context: Context | None = None
    ) -> None:
        """Rows do not move the bookmark: a window does, once all its rows are out."""
