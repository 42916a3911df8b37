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
from singer_sdk.pagination import PageNumberPaginator
from singer_sdk.streams import RESTStream

from tap_tiktok_reporting.errors import (
    ErrorClass,
    ErrorDetails,
    TikTokAPIError,
    TikTokTransientError,
    classify_error,
    hint_for,
)
from tap_tiktok_reporting.rate_limit import rate_limited_session
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

    from tap_tiktok_reporting.auth import TikTokAuthenticator
    from tap_tiktok_reporting.tap import TapTikTok

_BODY_CACHE_ATTRIBUTE = "_tiktok_body"
_NETWORK_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    ConnectionResetError,
)
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
    """The advertiser a request was about, read from its query (and only that parameter)."""
    if request is None or not request.url:
        return None
    query = parse_qs(urlsplit(request.url).query)
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
    def requests_session(self) -> requests.Session:
        """A session whose every request waits for the run's shared rate limiter."""
        if self._session is None:
            self._session = rate_limited_session(self.tiktok_tap.rate_limiter)
        return self._session

    @property
    def timeout(self) -> int:
        """Seconds to wait for one response."""
        return t.cast("int", self.config.get("request_timeout", DEFAULT_REQUEST_TIMEOUT))

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

    # Response checking

    def validate_response(self, response: requests.Response) -> None:
        """Check the HTTP status, then the body's `code`; keep the decoded body for parsing."""
        advertiser_id = _advertiser_of(response.request)
        details = functools.partial(ErrorDetails, self.path, advertiser_id=advertiser_id)
        status = response.status_code
        if status == requests.codes.too_many_requests or status >= 500:
            raise TikTokTransientError(details(f"HTTP {status}"), response)
        if status >= 400:
            hint = "check api_base_url" if status == 404 else "check the settings"
            raise TikTokAPIError(details(f"HTTP {status}", hint=hint))
        try:
            body = msgspec.json.decode(response.content)
        except msgspec.DecodeError:
            problem = f"the response is not valid JSON ({len(response.content)} bytes)"
            raise TikTokTransientError(details(problem), response) from None
        if not isinstance(body, dict) or not isinstance(body.get("code"), int):
            raise TikTokTransientError(details("the response is not a TikTok envelope"), response)

        code = body["code"]
        kind = classify_error(code)
        if kind is ErrorClass.OK:
            if not isinstance(body.get("data"), dict):
                raise TikTokTransientError(details("a success response without data"), response)
            setattr(response, _BODY_CACHE_ATTRIBUTE, body)
            return

        error = details(
            "TikTok refused the request",
            code=code,
            message=body.get("message"),
            request_id=body.get("request_id"),
        )
        if kind is ErrorClass.TOKEN_EXPIRED:
            used_token = response.request.headers.get("Access-Token") if response.request else None
            if self.authenticator.recover_from_expired(used_token):
                raise TikTokTransientError(error, response)
        if kind is ErrorClass.TRANSIENT:
            raise TikTokTransientError(error, response)
        raise self.permanent_error(dataclasses.replace(error, hint=hint_for(code)))

    def permanent_error(self, details: ErrorDetails) -> Exception:
        """The exception for a permanent error; report streams add their own context."""
        return TikTokAPIError(details)

    # Retries

    def backoff_wait_generator(self) -> t.Generator[float, None, None]:
        """Exponential waits from half a second, capped at 30 s (full jitter is applied)."""
        return backoff.expo(base=2, factor=_WAIT_FIRST_SECONDS, max_value=_WAIT_MAX_SECONDS)

    def backoff_jitter(self, value: float) -> float:
        """Full jitter, so parallel jobs on one app do not retry in step."""
        return backoff.full_jitter(value)

    def request_decorator(self, func: t.Callable) -> t.Callable:
        """Retry transient failures for at most `max_retry_seconds` in total."""

        @functools.wraps(func)
        def send(prepared_request: requests.PreparedRequest, context: Context | None) -> t.Any:
            try:
                return func(prepared_request, context)
            except _NETWORK_ERRORS as exc:
                # The exception's own text can carry the URL and its query (app secret).
                problem = f"network failure ({type(exc).__name__})"
                details = ErrorDetails(self.path, problem, _advertiser_of(prepared_request))
                raise TikTokTransientError(details) from None

        return backoff.on_exception(
            self.backoff_wait_generator,
            RetriableAPIError,
            max_time=float(self.config.get("max_retry_seconds", DEFAULT_MAX_RETRY_SECONDS)),
            on_backoff=self.backoff_handler,
            jitter=self.backoff_jitter,
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
    """A stream with one partition, and so one bookmark, per advertiser of the run."""

    @property
    def partitions(self) -> list[dict[str, str]]:
        """One context per advertiser, resolved (and maybe discovered) once per run."""
        return [
            {"advertiser_id": advertiser_id} for advertiser_id in self.tiktok_tap.advertiser_ids
        ]

    def get_starting_replication_key_value(self, context: Context | None) -> t.Any:
        """The advertiser's bookmark from state only: `start_date` is applied by each stream."""
        state = self.get_context_state(context)
        if state.get("replication_key") == self.replication_key:
            return state.get("replication_key_value")
        return None
