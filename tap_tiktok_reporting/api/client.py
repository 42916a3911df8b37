"""The one HTTP path every stream uses: request building, response checks, retries, paging."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import typing as t
from urllib.parse import parse_qs, urlsplit

import backoff
import msgspec
import requests
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._state import get_state_if_exists
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import PageNumberPaginator
from singer_sdk.singerlib import RecordMessage
from singer_sdk.streams import RESTStream

from tap_tiktok_reporting.api.connectivity import (
    NETWORK_ERRORS,
    network_failure,
    retry_waits,
    timeouts,
)
from tap_tiktok_reporting.api.errors import (
    RATE_LIMIT_PAUSE_SECONDS,
    RATE_LIMITED_CODES,
    TRANSIENT_HTTP_STATUSES,
    ErrorClass,
    ErrorDetails,
    TikTokAPIError,
    TikTokTransientError,
    classify_error,
    hint_for,
)
from tap_tiktok_reporting.api.page_fetcher import Page
from tap_tiktok_reporting.api.rate_limit import RequestLimiter, rate_limited_session
from tap_tiktok_reporting.api.run_pipeline import RunPipeline
from tap_tiktok_reporting.settings import (
    DEFAULT_MAX_RETRY_SECONDS,
    DEFAULT_PAGE_SIZE,
    DEFAULT_REQUEST_TIMEOUT,
    api_root,
)

if t.TYPE_CHECKING:
    from backoff.types import Details
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

    from tap_tiktok_reporting.api.auth import TikTokAuthenticator
    from tap_tiktok_reporting.tap import TapTikTok

_BODY_CACHE_ATTRIBUTE = "_tiktok_body"
_WAIT_FIRST_SECONDS = 0.5
_WAIT_MAX_SECONDS = 30.0


def tiktok_body(response: requests.Response) -> dict[str, t.Any]:
    """The response's decoded envelope, as checked by `TikTokStream.validate_response`."""
    return t.cast("dict[str, t.Any]", getattr(response, _BODY_CACHE_ATTRIBUTE))


def encode_query_value(value: t.Any) -> str:
    """TikTok wants lists and objects as JSON strings in the query, scalars as plain text."""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _advertiser_of(request: requests.PreparedRequest | None) -> str | None:
    """The advertiser(s) a request was about, read from its query (and only those parameters)."""
    if request is None or not request.url:
        return None
    query = parse_qs(urlsplit(request.url).query)
    if batch := query.get("advertiser_ids"):
        try:
            return ", ".join(str(i) for i in json.loads(batch[0]))
        except (ValueError, TypeError):
            return None
    if ids := query.get("advertiser_id"):
        return ids[0]
    return None


class TikTokPaginator(PageNumberPaginator):
    """Follows `page_info.page` and `total_page`; a short page does not end the list."""

    def __init__(self) -> None:
        super().__init__(start_value=1)

    def has_more(self, response: requests.Response) -> bool:
        """More pages exist when the current page is below `total_page`."""
        page_info = (tiktok_body(response).get("data") or {}).get("page_info") or {}
        try:
            return int(page_info.get("page", 0)) < int(page_info.get("total_page", 0))
        except (TypeError, ValueError):
            return False

    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty page before `total_page` (objects deleted while paging) is not the end."""
        return self.has_more(response)


@dataclasses.dataclass(frozen=True)
class _PageNumber:
    """What the SDK's request building reads off a paginator: the page to ask for."""

    current_value: int | None


class TikTokStream(RESTStream[int]):
    """Base for every TikTok stream: one request path, one error policy, one rate limit."""

    #: Whether the endpoint pages with `page`/`page_size`.
    paginated: bool = True

    def __init__(self, tap: TapTikTok, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(tap, *args, **kwargs)
        self._session: requests.Session | None = None

    @property
    def tiktok_tap(self) -> TapTikTok:
        """The tap this stream belongs to, with its shared limiter and authenticator."""
        return t.cast("TapTikTok", self._tap)

    @property
    def url_base(self) -> str:
        """The API root with a trailing slash; stream paths are relative to it."""
        return api_root(self.config) + "/"

    @property
    def authenticator(self) -> TikTokAuthenticator:
        """The run's one authenticator."""
        return self.tiktok_tap.authenticator

    @property
    def request_limiter(self) -> RequestLimiter:
        """What this stream's requests wait for: the run's shared limiter."""
        return self.tiktok_tap.rate_limiter

    @property
    def requests_session(self) -> requests.Session:
        """A session whose every request waits for `request_limiter`."""
        if self._session is None:
            tap = self.tiktok_tap
            self._session = rate_limited_session(
                self.request_limiter, tap.first_contact, tap.page_fetcher.max_in_flight
            )
        return self._session

    @property
    def timeout(self) -> tuple[float, float]:  # type: ignore[override]
        """(connect, read) seconds: a response may take `request_timeout`, a connection less."""
        return timeouts(float(self.config.get("request_timeout", DEFAULT_REQUEST_TIMEOUT)))

    def page_size_for(self, context: Context | None) -> int:
        """Rows per request in `context`: the `page_size` setting."""
        return int(self.config.get("page_size", DEFAULT_PAGE_SIZE))

    def get_new_paginator(self) -> TikTokPaginator | None:
        """Page numbers from 1 to `total_page`."""
        return TikTokPaginator() if self.paginated else None

    def request_params(self, context: Context | None) -> dict[str, t.Any]:
        """The endpoint's parameters for a request in `context` (lists and dicts allowed)."""
        return {}

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """Build the request: endpoint params plus paging, lists and objects JSON-encoded."""
        request = super().get_http_request(page=page)
        params = dict(self.request_params(page.stream_context))
        if self.paginated:
            params["page"] = page.next_page_token
            params["page_size"] = self.page_size_for(page.stream_context)
        request.params = {k: encode_query_value(v) for k, v in params.items() if v is not None}
        return request

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Rows of `data.list`."""
        yield from (tiktok_body(response).get("data") or {}).get("list") or []

    # Listings

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """Every row of one listing (all pages of one query), each key only once."""
        yield from self.unique_rows(super().request_records(context), set())

    def unique_rows(
        self, rows: t.Iterable[dict[str, t.Any]], seen: set[t.Hashable]
    ) -> t.Iterator[dict[str, t.Any]]:
        """`rows` less those whose key is in `seen`, which collects the keys let through.

        TikTok pages by offset: an object created while the tap pages pushes the rest of the
        listing down, so a page can begin with the previous page's last row. `seen` lives as
        long as one listing (with its retries), no longer.
        """
        key_of = self.listing_key
        for row in rows:
            key = key_of(row)
            if key is None:
                yield row
            elif key not in seen:
                seen.add(key)
                yield row

    def listing_key(self, row: dict[str, t.Any]) -> t.Hashable | None:
        """What identifies a row within one listing: its primary key (None: not de-duplicated)."""
        key = tuple(row.get(name) for name in self.primary_keys or ())
        return key if key and None not in key else None

    # Records

    @functools.cached_property
    def _has_deselected_properties(self) -> bool:
        return any(not self.mask[("properties", name)] for name in self.schema["properties"])

    def _generate_record_messages(self, record: dict) -> t.Generator[RecordMessage, None, None]:
        """The SDK's record messages, without walking the record when every field is selected.

        With `TYPE_CONFORMANCE_LEVEL` at NONE (streams whose values the tap has typed
        itself), nothing else touches the record on its way out.
        """
        if self._has_deselected_properties:
            pop_deselected_record_properties(record, self.schema, self.mask)
        if self.TYPE_CONFORMANCE_LEVEL is not TypeConformanceLevel.NONE:
            record = conform_record_data_types(
                stream_name=self.name,
                record=record,
                schema=self.effective_schema,
                level=self.TYPE_CONFORMANCE_LEVEL,
                logger=self.logger,
            )
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=utc_now(),
                )

    # Pages for the page fetcher (run on its threads)

    @functools.cached_property
    def _send_with_retries(self) -> t.Callable[..., requests.Response]:
        return self.request_decorator(self._request)

    def fetch_page(self, context: Context, number: int) -> Page:
        """Page `number` of the listing `context`, retried like every request."""
        context = dict(context)
        prepared = self._prepare_request(
            context=context,
            page=_PageNumber(number if self.paginated else None),  # type: ignore[arg-type]
        )
        response = self._send_with_retries(prepared, context)
        data = tiktok_body(response).get("data") or {}
        rows = functools.partial(self.page_rows, response, context)
        page_info = data.get("page_info") or {}
        try:
            total_pages = int(page_info.get("total_page") or 1) if self.paginated else 1
        except (TypeError, ValueError):
            total_pages = 1
        return Page(rows=rows, total_pages=total_pages)

    def page_rows(self, response: requests.Response, context: Context) -> list[dict[str, t.Any]]:
        """The rows of a checked response, as the stream's records are read from them."""
        return list(self.parse_response(response))

    # Response checking

    def decode_body(self, content: bytes) -> t.Any:
        """The response body as JSON (raises msgspec.DecodeError)."""
        return msgspec.json.decode(content)

    def validate_response(self, response: requests.Response) -> None:
        """Check the HTTP status, then the body's `code`; keep the decoded body for parsing."""
        advertiser_id = _advertiser_of(response.request)
        details = functools.partial(ErrorDetails, self.path, advertiser_id=advertiser_id)
        status = response.status_code
        if status in TRANSIENT_HTTP_STATUSES or status >= 500:
            if status == requests.codes.too_many_requests:
                self.request_limiter.pause(RATE_LIMIT_PAUSE_SECONDS)
            raise TikTokTransientError(details(f"HTTP {status}"), response)
        if status >= 400:
            hint = "check api_base_url" if status == 404 else "check the settings"
            raise TikTokAPIError(details(f"HTTP {status}", hint=hint))
        try:
            body = self.decode_body(response.content)
        except msgspec.DecodeError:
            problem = f"the response is not valid JSON ({len(response.content)} bytes)"
            raise TikTokTransientError(details(problem), response) from None
        if not isinstance(body, dict) or not isinstance(body.get("code"), int):
            raise TikTokTransientError(details("the response is not a TikTok envelope"), response)

        code = body["code"]
        kind = classify_error(code)
        used_token = response.request.headers.get("Access-Token") if response.request else None
        if kind is ErrorClass.OK:
            if not isinstance(body.get("data"), dict):
                raise TikTokTransientError(details("a success response without data"), response)
            setattr(response, _BODY_CACHE_ATTRIBUTE, body)
            self.authenticator.note_success(used_token)
            return

        error = details(
            "TikTok refused the request",
            code=code,
            message=body.get("message"),
            request_id=body.get("request_id"),
        )
        if kind is ErrorClass.TOKEN_EXPIRED:
            if self.authenticator.recover_from_expired(used_token):
                raise TikTokTransientError(error, response)
            hint = self.authenticator.expired_token_hint
            raise self.permanent_error(dataclasses.replace(error, hint=hint))
        if kind is ErrorClass.TRANSIENT:
            if code in RATE_LIMITED_CODES:
                self.request_limiter.pause(RATE_LIMIT_PAUSE_SECONDS)
            raise TikTokTransientError(error, response)
        raise self.permanent_error(dataclasses.replace(error, hint=hint_for(code)))

    def permanent_error(self, details: ErrorDetails) -> Exception:
        """The exception for a permanent error; report streams add their own context."""
        return TikTokAPIError(details)

    # Retries

    def backoff_wait_generator(self) -> t.Generator[float, None, None]:
        """Exponential waits from half a second, capped at 30 s (full jitter is applied).

        Until the run's first answer, waits stay short so that an unreachable API is reported
        within the first-contact deadline.
        """
        return retry_waits(self.tiktok_tap.first_contact, _WAIT_FIRST_SECONDS, _WAIT_MAX_SECONDS)

    def backoff_jitter(self, value: float) -> float:
        """Full jitter, so parallel jobs on one app do not retry in step."""
        return backoff.full_jitter(value)

    def request_decorator(self, func: t.Callable) -> t.Callable:
        """Retry transient failures for at most `max_retry_seconds` in total."""

        @functools.wraps(func)
        def send(prepared_request: requests.PreparedRequest, context: Context | None) -> t.Any:
            try:
                return func(prepared_request, context)
            except NETWORK_ERRORS as exc:
                raise network_failure(
                    exc,
                    prepared_request.url,
                    self.path,
                    self.tiktok_tap.first_contact,
                    _advertiser_of(prepared_request),
                ) from None

        return backoff.on_exception(
            self.backoff_wait_generator,
            RetriableAPIError,
            max_time=float(self.config.get("max_retry_seconds", DEFAULT_MAX_RETRY_SECONDS)),
            on_backoff=self.backoff_handler,
            jitter=self.backoff_jitter,
            # A page fetched ahead for a run that has ended (say, failed) is not retried.
            giveup=lambda _exc: self.tiktok_tap.page_fetcher.closed,
            logger=None,
        )(send)

    def backoff_handler(self, details: Details) -> None:
        """Log one line per retry: what failed and how long the tap waits."""
        exc = details.get("exception")
        self.log(
            "Retrying in %.1f s (attempt %d): %s",
            details.get("wait") or 0.0,
            details.get("tries"),
            exc,
            level=logging.WARNING,
        )


class AdvertiserPartitionedStream(TikTokStream):
    """A stream with one partition, and so one bookmark, per advertiser of the run.

    A stream says what it reads as listings (`listings`: one query each, such as a buying-type
    group or a report window) and reads them back with `fetched_listings`, in order. The run's
    page fetcher fetches every advertiser's listings ahead together, so the SDK's sequential
    partition loop still keeps the rate limit busy.
    """

    @property
    def partitions(self) -> list[dict[str, str]]:
        """One context per advertiser, resolved (and maybe discovered) once per run."""
        return [
            {"advertiser_id": advertiser_id} for advertiser_id in self.tiktok_tap.advertiser_ids
        ]

    def get_starting_replication_key_value(self, context: Context | None) -> t.Any:
        """The advertiser's bookmark from state only: `start_date` is applied by each stream."""
        # Read without creating the partition's state: listings are planned ahead of the SDK.
        state = get_state_if_exists(self.tap_state, self.name, context) or {}
        if state.get("replication_key") == self.replication_key:
            return state.get("replication_key_value")
        return None

    def listings(self, partition: Context) -> t.Iterable[dict[str, t.Any]]:
        """The queries one advertiser's records come from, in reading order."""
        return ()

    def planned_listings(
        self, partitions: t.Sequence[Context]
    ) -> t.Iterator[tuple[int, dict[str, t.Any]]]:
        """Every listing of `partitions`, each with the index of the partition that reads it."""
        for index, partition in enumerate(partitions):
            for listing in self.listings(partition):
                yield index, listing

    def fetched_listings(
        self, partition: Context
    ) -> t.Iterator[tuple[Context, t.Iterator[list[dict[str, t.Any]]]]]:
        """The advertiser's listings, each with its pages of rows, fetched ahead with the rest.

        The run's pipeline plans every selected stream's listings in sync order, so the next
        stream's pages are fetched while this one's are written.
        """
        advertiser_id = partition["advertiser_id"]
        tap = self.tiktok_tap
        if tap.run_pipeline is None or not tap.run_pipeline.serves(self, advertiser_id):
            streams = [
                s for s in tap.streams_in_sync_order() if isinstance(s, AdvertiserPartitionedStream)
            ]
            tap.run_pipeline = RunPipeline(tap.page_fetcher, streams, self, advertiser_id)
        yield from tap.run_pipeline.take(self, advertiser_id)
