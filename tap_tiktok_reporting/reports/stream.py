"""The one report stream class: every built-in and custom report is an instance of it."""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import operator
import typing as t

import msgspec
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_tiktok_reporting.api.client import AdvertiserPartitionedStream, tiktok_body
from tap_tiktok_reporting.api.errors import (
    PARAMETER_ERROR,
    QUERY_TOO_LARGE,
    ErrorDetails,
    TikTokAPIError,
)
from tap_tiktok_reporting.reports.catalog import invalid_metric_fields
from tap_tiktok_reporting.reports.date_windows import DateWindow, date_windows, report_range
from tap_tiktok_reporting.reports.definitions import ReportDefinition, ReportFilter
from tap_tiktok_reporting.reports.pages import TypedReportRows
from tap_tiktok_reporting.reports.rows import ReportRowFlattener, report_schema
from tap_tiktok_reporting.reports.topview import TOPVIEW_FILTER, reads_topview_separately
from tap_tiktok_reporting.settings import (
    DEFAULT_LOOKBACK_DAYS,
    MAX_ADVERTISERS_PER_REPORT_REQUEST,
)

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

    from tap_tiktok_reporting.tap import TapTikTok


# Each refusal drops metrics, so a query is asked again a few times at most.
_MAX_REFUSALS_PER_QUERY = 5


# A partition whose report has no dates due (it is never batched with others).
_NOTHING_DUE = object()


# The listing key besides the query's own: whether it asks for TopView rows.
_TOPVIEW = "topview"


def _window_of(fetched: tuple[Context, t.Any]) -> tuple[str | None, str | None]:
    """A fetched query's date window (none for lifetime reports): a window's queries share it."""
    listing, _pages = fetched
    return listing.get("start_date"), listing.get("end_date")


def advertisers_of(listing: Context) -> list[str]:
    """The advertisers one report query is about (several when batched)."""
    return list(listing.get("advertiser_ids") or [listing["advertiser_id"]])


def for_advertisers(query: Context, advertiser_ids: t.Sequence[str]) -> dict[str, t.Any]:
    """`query` asked for `advertiser_ids` (one request; `advertiser_ids` only when several)."""
    listing = {k: v for k, v in query.items() if k != "advertiser_ids"}
    listing["advertiser_id"] = advertiser_ids[0]
    if len(advertiser_ids) > 1:
        listing["advertiser_ids"] = list(advertiser_ids)
    return listing


class BatchAnswerError(TikTokAPIError):
    """A batched report answer whose rows do not say which advertiser they belong to."""


class RefusedDefinitionError(TikTokAPIError):
    """TikTok refuses what the report asks for, whichever advertisers it is asked for."""


class QueryTooLargeError(TikTokAPIError):
    """TikTok's 40067: the window must shrink."""


class RefusedMetricsError(TikTokAPIError):
    """TikTok's 40002 naming metrics a built-in report requests: ask again without them."""

    def __init__(self, details: ErrorDetails, metrics: tuple[str, ...]) -> None:
        super().__init__(details)
        self.metrics = metrics


class ReportStream(AdvertiserPartitionedStream):
    """Rows of one report definition, per advertiser, in the widest date windows TikTok allows.

    Incremental reports keep a date bookmark per advertiser: the last date fully fetched. Each
    run re-reads from the bookmark less the lookback, so late-attributed conversions are
    refreshed; lifetime reports are full-table snapshots.
    """

    path = "report/integrated/get/"
    # Every value is typed by the row flattener already (see reports/rows.py).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapTikTok, definition: ReportDefinition) -> None:
        self.definition = definition
        # A heavy report is unselected by default at its root only (the SDK's own rule), so
        # selecting the stream selects all its columns.
        self.selected_by_default = definition.selected_by_default
        super().__init__(tap, name=definition.name, schema=report_schema(definition))
        self.primary_keys = list(definition.primary_keys)
        self.replication_key = definition.time_dimension
        # What this run asks TikTok for: the definition's metrics less any TikTok refused.
        self.requested_metrics: tuple[str, ...] = definition.metrics
        self._flatteners: dict[str, ReportRowFlattener] = {}
        self.typed_rows = TypedReportRows(definition.metrics, definition.dimensions)
        self._row_key = operator.itemgetter("advertiser_id", *definition.dimensions)

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
        batch = context.get("advertiser_ids") or ()
        params: dict[str, t.Any] = (
            {"advertiser_ids": list(batch)}
            if len(batch) > 1
            else {"advertiser_id": context["advertiser_id"]}
        )
        params |= {
            "report_type": definition.report_type.value,
            "data_level": definition.level.api_name,
            "dimensions": list(definition.dimensions),
            "metrics": list(self.requested_metrics),
        }
        if definition.is_lifetime:
            params["query_lifetime"] = True
        else:
            params["start_date"] = context["start_date"]
            params["end_date"] = context["end_date"]
        if filtering := self.filtering(topview=bool(context.get(_TOPVIEW))):
            params["filtering"] = filtering
        return params

    def filtering(self, *, topview: bool = False) -> list[dict[str, str]]:
        """The report's filters, plus the level's `STATUS_ALL` when deleted objects are wanted.

        A TopView query also filters on `buying_type` (TikTok serves those rows only then).
        """
        filters = list(self.definition.filters)
        status_field = self.definition.level.status_filter
        wants_deleted = self.config.get("include_deleted", True)
        if wants_deleted and status_field and all(f.field_name != status_field for f in filters):
            filters.append(ReportFilter(status_field, "IN", ("STATUS_ALL",)))
        if topview:
            filters.append(TOPVIEW_FILTER)
        return [f.to_api() for f in filters]

    def permanent_error(self, details: ErrorDetails) -> Exception:
        """Name the report in TikTok's refusals; 40067 becomes a signal to shrink the window."""
        if details.code == QUERY_TOO_LARGE:
            return QueryTooLargeError(details)
        if details.code == PARAMETER_ERROR:
            refused = invalid_metric_fields(details.message)
            # The definition's list, not this moment's: requests in flight were built before
            # another one's refusal dropped the same metrics.
            requested = set(self.definition.metrics)
            hint = f"TikTok rejected report '{self.name}': fix its definition as the message says"
            if refused and requested.issuperset(refused):
                if self.definition.builtin and len(refused) < len(requested):
                    return RefusedMetricsError(details, refused)
                hint = (
                    f"TikTok refuses metric(s) {', '.join(refused)} in report '{self.name}': "
                    "remove them from the report's metrics"
                )
                return RefusedDefinitionError(dataclasses.replace(details, hint=hint))
            return TikTokAPIError(dataclasses.replace(details, hint=hint))
        return TikTokAPIError(details)

    # Records

    def flattener(self, advertiser_id: str) -> ReportRowFlattener:
        """Row flattener in the advertiser's time zone (hourly stamps carry its offset)."""
        if advertiser_id not in self._flatteners:
            zone = self.tiktok_tap.advertiser_time_zones[advertiser_id]
            self._flatteners[advertiser_id] = ReportRowFlattener(self.definition, zone)
        return self._flatteners[advertiser_id]

    def decode_body(self, content: bytes) -> t.Any:
        """The envelope, its rows left as raw JSON until read (see reports/pages.py)."""
        return self.typed_rows.envelope(content) or super().decode_body(content)

    def parse_response(self, response: requests.Response) -> t.Iterable[t.Any]:
        """The page's rows: typed where their values allow it, else plain."""
        rows = (tiktok_body(response).get("data") or {}).get("list") or []
        return self.typed_rows.rows(rows) if isinstance(rows, msgspec.Raw) else rows

    def page_rows(self, response: requests.Response, context: Context) -> list[dict[str, t.Any]]:
        """The page's records, flattened and typed when the stream reads the page.

        A batch's rows say whose they are (`advertiser_id` among their metrics); each is
        flattened in its advertiser's time zone.
        """
        rows = list(self.parse_response(response))
        batch = context.get("advertiser_ids") or ()
        if len(batch) <= 1:
            advertiser_id = context["advertiser_id"]
            return self.flattener(advertiser_id).flatten_page(rows, advertiser_id, self.typed_rows)
        records: list[dict[str, t.Any]] = []
        owner_of = self.typed_rows.advertiser_of
        for advertiser_id, owned in itertools.groupby(rows, key=owner_of):
            if advertiser_id not in batch:
                problem = (
                    f"a row of the answer for advertisers {', '.join(batch)} belongs to "
                    f"advertiser {advertiser_id or '(none given)'}"
                )
                raise BatchAnswerError(ErrorDetails(self.path, problem))
            flattener = self.flattener(advertiser_id)
            records += flattener.flatten_page(list(owned), advertiser_id, self.typed_rows)
        return records

    def listings(self, partition: Context) -> t.Iterable[dict[str, t.Any]]:
        """The advertiser's queries: see `queries_of`."""
        return self.queries_of(partition, [partition["advertiser_id"]])

    def queries_of(
        self, partition: Context, advertiser_ids: t.Sequence[str]
    ) -> t.Iterator[dict[str, t.Any]]:
        """Lifetime: one query; otherwise one per due date window (`partition`'s dates).

        Each is asked for `advertiser_ids` together, and followed by the same query with the
        TopView filter for those of them that have TopView objects, if the report needs it.
        """
        if self.definition.is_lifetime:
            windows: list[Context] = [dict(partition)]
        else:
            due = self.due_range(partition)
            if due is None:
                return
            windows = [
                self.window_context(partition, window)
                for window in date_windows(due.start, due.end, self.window_days)
            ]
        for window in windows:
            yield for_advertisers(window, advertiser_ids)
            # Asked after the window's first query is planned: that one need not wait for
            # the TopView lookups' answers.
            if topview := self.topview_advertisers_among(advertiser_ids):
                yield {**for_advertisers(window, topview), _TOPVIEW: True}

    @property
    def reads_topview(self) -> bool:
        """Whether the report reads TopView rows in queries of their own."""
        return reads_topview_separately(self.definition)

    def topview_advertisers_among(self, advertiser_ids: t.Sequence[str]) -> list[str]:
        """Those of `advertiser_ids` whose TopView rows this report reads in a query of their own.

        Advertisers sharing a request have the same due dates, so those of them with TopView
        objects share the TopView request too; the others cost none.
        """
        if not self.reads_topview:
            return []
        lookup = self.tiktok_tap.topview_lookup
        return [
            advertiser_id for advertiser_id in advertiser_ids if lookup.has_topview(advertiser_id)
        ]

    def planned_listings(
        self, partitions: t.Sequence[Context]
    ) -> t.Iterator[tuple[int, dict[str, t.Any]]]:
        """Listings of `partitions`; advertisers with the same due dates share their requests.

        Up to `advertisers_per_report_request` advertisers whose due ranges are equal are
        asked for together; their listings are read at the first one's place.
        """
        per_request = int(
            self.config.get("advertisers_per_report_request", MAX_ADVERTISERS_PER_REPORT_REQUEST)
        )
        if per_request <= 1:
            yield from super().planned_listings(partitions)
            return
        # Partitions by due dates, in order; each group is asked for `per_request` at a time.
        groups: dict[t.Any, list[int]] = {}
        for index, partition in enumerate(partitions):
            if (due := self.due_key(partition)) is not _NOTHING_DUE:
                groups.setdefault(due, []).append(index)
        batches = [
            members[start : start + per_request]
            for members in groups.values()
            for start in range(0, len(members), per_request)
        ]
        for members in sorted(batches):
            ids = [partitions[m]["advertiser_id"] for m in members]
            for listing in self.queries_of(partitions[members[0]], ids):
                yield members[0], listing

    def due_key(self, partition: Context) -> t.Any:
        """What must be equal for advertisers to share requests: their due dates."""
        if self.definition.is_lifetime:
            return None
        due = self.due_range(partition)
        return _NOTHING_DUE if due is None else due

    @staticmethod
    def window_context(partition: Context, window: DateWindow) -> dict[str, t.Any]:
        """The query context of one date window."""
        return {
            **partition,
            "start_date": window.start.isoformat(),
            "end_date": window.end.isoformat(),
        }

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Each listing's rows; after each window, the bookmark moves to its last date.

        A window is complete once its TopView query, if any, is read too: the bookmark moves
        when the next window's first query comes, or the listings end. A row comes out once
        per window, whichever of its queries it is in.
        """
        fetched = self.fetched_listings(dict(context or {}))
        for _dates, window in itertools.groupby(fetched, key=_window_of):
            emitted: set[t.Hashable] = set()
            first: Context = {}  # the window's regular query, which names all its advertisers
            for listing, pages in window:
                first = first or listing
                yield from self.listing_rows(listing, pages, emitted)
            self.close_window(first)

    def close_window(self, first: Context) -> None:
        """Every query of a window is read: move the bookmarks of `first`'s advertisers."""
        if not self.definition.is_lifetime:
            last_date = datetime.date.fromisoformat(first["end_date"])
            self.checkpoint(advertisers_of(first), last_date)

    def listing_rows(
        self,
        listing: Context,
        pages: t.Iterator[list[dict[str, t.Any]]],
        emitted: set[t.Hashable] | None = None,
    ) -> t.Iterator[dict[str, t.Any]]:
        """Rows of one query, each once, recovering from TikTok's refusals as they come.

        A built-in report asks again without metrics TikTok refuses; a window TikTok finds too
        large is read again in halves (a batch, first one advertiser at a time); advertisers
        TikTok refuses together are asked for one at a time. Rows out before a refusal are not
        sent twice; `emitted` holds the keys of the rows out already (of this query, or of the
        window's other query).
        """
        emitted = set() if emitted is None else emitted
        refusals_left = _MAX_REFUSALS_PER_QUERY
        attempts: list[tuple[Context, t.Iterator[list[dict[str, t.Any]]]]] = [(listing, pages)]
        while attempts:
            context, attempt_pages = attempts.pop(0)
            try:
                yield from self.unique_rows(itertools.chain.from_iterable(attempt_pages), emitted)
            except RefusedMetricsError as refused:
                refusals_left -= 1
                if refusals_left < 0:
                    raise  # TikTok keeps refusing what is no longer asked for
                self.drop_metrics(refused.metrics)
                attempts[:0] = [(context, self.pages_now(context))]
            except QueryTooLargeError:
                if len(advertisers_of(context)) > 1:
                    # Too much together: each advertiser alone before any window is cut.
                    attempts[:0] = self.asked_alone(context, "found report %s too large for", "")
                    continue
                window = DateWindow(
                    datetime.date.fromisoformat(context["start_date"]),
                    datetime.date.fromisoformat(context["end_date"]),
                )
                if window.days == 1:
                    raise
                self.logger.warning(
                    "TikTok found %s..%s too large for report %s; splitting the window",
                    window.start,
                    window.end,
                    self.name,
                )
                halves = [self.window_context(context, half) for half in window.halves()]
                attempts[:0] = [(half, self.pages_now(half)) for half in halves]
            except RefusedDefinitionError:
                raise
            except TikTokAPIError as refused:
                if len(advertisers_of(context)) <= 1:
                    raise
                details = refused.details
                detail = f" (code {details.code}: {details.message or details.problem})"
                attempts[:0] = self.asked_alone(context, "refused report %s for", detail)

    def asked_alone(
        self, listing: Context, what: str, detail: str
    ) -> list[tuple[Context, t.Iterator[list[dict[str, t.Any]]]]]:
        """A batched query asked again for each of its advertisers on its own.

        One warning says why: TikTok `what` (naming the report) the advertisers, `detail`.
        """
        batch = advertisers_of(listing)
        self.logger.warning(
            "TikTok %s advertisers %s together%s; asking for them one at a time",
            what % self.name,
            ", ".join(batch),
            detail,
        )
        singles = [for_advertisers(listing, [advertiser_id]) for advertiser_id in batch]
        return [(single, self.pages_now(single)) for single in singles]

    def pages_now(self, listing: Context) -> t.Iterator[list[dict[str, t.Any]]]:
        """The pages of a query asked again (after a refusal), through the run's fetcher."""
        for _context, pages in self.tiktok_tap.page_fetcher.listings(self.fetch_page, [listing]):
            yield from pages

    def drop_metrics(self, refused: tuple[str, ...]) -> None:
        """Stop requesting `refused` for the rest of the run (every advertiser and window)."""
        still_requested = tuple(m for m in self.requested_metrics if m not in refused)
        if still_requested == self.requested_metrics:
            return  # another query of this run already reported and dropped them
        self.requested_metrics = still_requested
        # Their columns stay in the schema, emitted as null, so loaded tables keep their shape.
        self.logger.warning(
            "TikTok refuses metric(s) %s in built-in report %s (code 40002); they are no longer "
            "requested in this run and are emitted as null",
            ", ".join(refused),
            self.name,
        )

    def listing_key(self, row: dict[str, t.Any]) -> t.Hashable | None:
        """A report record is identified within its query by its advertiser and dimensions."""
        return self._row_key(row)

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

    def checkpoint(self, advertiser_ids: t.Sequence[str], last_date: datetime.date) -> None:
        """Advance the advertisers' bookmarks to the last fully fetched date and emit state."""
        for advertiser_id in advertiser_ids:
            state = self.get_context_state({"advertiser_id": advertiser_id})
            previous = state.get("replication_key_value")
            if previous and str(previous)[:10] > last_date.isoformat():
                continue  # a lookback re-read never moves the bookmark back
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = last_date.isoformat()
        # Written now, not at the end: an interrupted run resumes after the last full window.
        self.state_manager.is_flushed = False
        self._write_state_message()

    def _increment_stream_state(
        self, latest_record: dict, *, context: Context | None = None
    ) -> None:
        """Rows do not move the bookmark: a window does, once all its rows are out."""
