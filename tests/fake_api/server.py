"""The fake TikTok Marketing API: HTTP server, routing, envelope, auth, QPS limit, request log."""

from __future__ import annotations

import contextlib
import itertools
import json
import secrets
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .dataset import Dataset, DatasetSpec
from .errors import OK, QPS_LIMIT, ApiError, default_message, qps_limit_message
from .faults import Fault, FaultQueue, first_half, html_error_page
from .oauth import AUTHORIZATION_PAGE, authorization_redirect
from .pagination import PageShifts
from .params import Params
from .qps import SlidingWindowLimiter
from .report_data import DeliveryModel
from .routes import API_PREFIX, Call, Route, default_routes
from .tokens import TokenStore


@dataclass(frozen=True)
class RequestLog:
    """One request the fake received and how it answered."""

    path: str
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    code: int | None
    http_status: int | None
    fault: str | None
    request_id: str | None = None
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class _Reply:
    """A fully rendered HTTP answer."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    announced_length: int | None = (
        None  # Content-Length to claim when it differs from the body sent
    )

    @property
    def content_length(self) -> int:
        """The Content-Length header value."""
        return len(self.body) if self.announced_length is None else self.announced_length


class FakeMarketingAPI:
    """A local, thread-safe stand-in for business-api.tiktok.com/open_api/v1.3/."""

    def __init__(
        self,
        spec: DatasetSpec | None = None,
        *,
        qps_limit: int | None = 10,
        app_id: str = "7000000000000000001",
        secret: str = "app-secret-xyz",
        access_token: str = "tok-live-abc",
        refresh_token: str = "rt-abc",
        host: str = "127.0.0.1",
        port: int = 0,
        routes: list[Route] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.spec = spec or DatasetSpec()
        self.data = Dataset(self.spec, self.lock)
        self.app_id = app_id
        self.secret = secret
        self.tokens = TokenStore(access_token, refresh_token)
        self.faults = FaultQueue()
        self.page_shifts = PageShifts()
        # Tracebacks of handler crashes: bugs in the fake, answered HTTP 500 so they show.
        self.errors: list[str] = []
        self._limiter = SlidingWindowLimiter(qps_limit)
        # Endpoints with their own QPS tier (on top of the app's), by API path.
        self._path_limiters: dict[str, SlidingWindowLimiter] = {}
        self._qps_lock = threading.Lock()
        self._log: list[RequestLog] = []
        self._routes: dict[str, Route] = {}
        for route in default_routes() if routes is None else routes:
            self.add_route(route)
        self._host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._request_counter = itertools.count()
        # Report data: per ad-day delivery and the knobs report tests turn.
        self.delivery = DeliveryModel(self.spec.seed)
        self.report_max_days_before_too_large: int | None = None
        self._now: datetime | None = None
        # Requests being answered right now (own lock: handlers hold `lock` while computing).
        self._flight_lock = threading.Lock()
        self._in_flight = 0
        self._peak_in_flight = 0

    # ----- lifecycle -----

    def start(self) -> FakeMarketingAPI:
        """Bind and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("already started")
        self._server = _Server((self._host, self._port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll interval
            name="fake-tiktok-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeMarketingAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """Base URL without trailing slash, e.g. http://127.0.0.1:PORT/open_api/v1.3."""
        return f"http://{self._host}:{self.port}{API_PREFIX.rstrip('/')}"

    # ----- routing -----

    def add_route(self, route: Route) -> None:
        """Register (or replace) the handler of one API path."""
        with self.lock:
            self._routes[route.path.lstrip("/")] = route
        if route.qps_limit is not None:
            self.set_path_qps_limit(route.path, route.qps_limit)

    @property
    def routes(self) -> dict[str, Route]:
        """The routing table (copy)."""
        with self.lock:
            return dict(self._routes)

    # ----- credentials -----

    @property
    def access_token(self) -> str:
        """The currently valid access token (changes after a refresh or an auth-code exchange)."""
        with self.lock:
            return self.tokens.access_token

    @property
    def refresh_token(self) -> str:
        """The app's refresh token (never rotated)."""
        with self.lock:
            return self.tokens.refresh_token

    def expire_access_token(self) -> None:
        """Make the current token answer 40102 until the client refreshes it."""
        with self.lock:
            self.tokens.expire_current()

    def expire_tokens_after(self, requests: int | None) -> None:
        """Each access token serves `requests` requests, then answers 40102 (None: never)."""
        with self.lock:
            self.tokens.requests_per_token = requests

    def refresh_issues_expired_tokens(self, expired: bool = True) -> None:
        """Refreshes hand out tokens that answer 40102 from their first use."""
        with self.lock:
            self.tokens.refresh_issues_expired = expired

    @property
    def issued_access_tokens(self) -> list[str]:
        """Every access token the app ever had, the configured one first."""
        with self.lock:
            return list(self.tokens.issued)

    def shift_pages(self, path: str, listings: int = 1) -> None:
        """After page 1 of the next multi-page listing of `path`, a new object appears at its head.

        Every later page of that listing then starts with the previous page's last row.
        """
        with self.lock:
            self.page_shifts.arm(path, listings)

    def issue_auth_code(self) -> str:
        """Return a one-time auth_code for oauth2/access_token/."""
        with self.lock:
            return self.tokens.issue_auth_code()

    # ----- data changes -----

    def modify(self, level: str, object_id: str, *, at: datetime, **changes: Any) -> dict[str, Any]:
        """Change fields of one campaign/adgroup/ad and set its modify_time to `at`."""
        return self.data.modify(level, object_id, at=at, **changes)

    def delete(self, level: str, object_id: str, *, at: datetime) -> dict[str, Any]:
        """Mark one campaign/adgroup/ad deleted and set its modify_time to `at`."""
        return self.data.delete(level, object_id, at=at)

    # ----- reports -----

    @property
    def now(self) -> datetime:
        """The fake's clock (aware, UTC): reports have no data after the advertiser's local today.

        Defaults to the real current time; assign an aware datetime to pin it, None to unpin.
        """
        with self.lock:
            pinned = self._now
        return datetime.now(timezone.utc) if pinned is None else pinned

    @now.setter
    def now(self, value: datetime | None) -> None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("api.now must be timezone-aware")
        with self.lock:
            self._now = None if value is None else value.astimezone(timezone.utc)

    def restate(self, days: Iterable[date], extra_conversions: int = 3) -> None:
        """Add conversions, real_time_conversion and result to every ad-day on those local dates.

        Applies to all advertisers; calling again accumulates. Lets tests check lookback re-reads.
        """
        with self.lock:
            self.delivery.restate(list(days), extra_conversions)

    def report_rows(
        self,
        advertiser_id: str,
        *,
        report_type: str,
        data_level: str,
        dimensions: Sequence[str],
        metrics: Sequence[str] | None,
        start_date: date | str | None = None,
        end_date: date | str | None = None,
        query_lifetime: bool = False,
        filtering: Sequence[dict[str, Any]] | str | None = None,
    ) -> list[dict[str, Any]]:
        """Every row report/integrated/get/ returns for this query, all pages in order.

        Same validation (raises ApiError) and computation as the endpoint, except that the
        report_max_days_before_too_large knob is not applied. `filtering` is the wire value: a
        list of {field_name, filter_type, filter_value} with filter_value a JSON-array string.
        """
        from .reports import report_rows

        return report_rows(
            self,
            advertiser_id,
            report_type=report_type,
            data_level=data_level,
            dimensions=dimensions,
            metrics=metrics,
            start_date=start_date,
            end_date=end_date,
            query_lifetime=query_lifetime,
            filtering=filtering,
        )

    def complete_report_rows(self, advertiser_id: str, **query: Any) -> list[dict[str, Any]]:
        """report_rows() plus the TopView rows TikTok serves only to a `buying_type` filter.

        The truth of a report stream that is meant to hold every object's rows; see
        reports.complete_report_rows.
        """
        from .reports import complete_report_rows

        return complete_report_rows(self, advertiser_id, **query)

    # ----- faults, QPS and the log -----

    def inject(self, fault: Fault) -> Fault:
        """Queue a fault; it fires before normal handling on matching requests."""
        with self.lock:
            self.faults.add(fault)
        return fault

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        with self.lock:
            self.faults.clear()

    @property
    def qps_limit(self) -> int | None:
        """Requests accepted per sliding second; None disables limiting."""
        return self._limiter.limit

    @qps_limit.setter
    def qps_limit(self, value: int | None) -> None:
        with self.lock:
            self._limiter.limit = value

    def set_path_qps_limit(self, path: str, limit: int | None) -> None:
        """Give one API path its own QPS limit, on top of the app's (None removes it)."""
        with self._qps_lock:
            if limit is None:
                self._path_limiters.pop(path.lstrip("/"), None)
            else:
                self._path_limiters[path.lstrip("/")] = SlidingWindowLimiter(limit)

    def path_peak_qps(self, path: str) -> int:
        """Most requests of `path` accepted within any 1-second window (0 without a path limit)."""
        with self._qps_lock:
            limiter = self._path_limiters.get(path.lstrip("/"))
            return 0 if limiter is None else limiter.peak

    @property
    def peak_qps(self) -> int:
        """Most requests accepted within any 1-second window since start (or clear_log)."""
        with self.lock:
            return self._limiter.peak

    @property
    def peak_in_flight(self) -> int:
        """Most requests being answered at once since start (or clear_log)."""
        with self._flight_lock:
            return self._peak_in_flight

    def wait_until_idle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until no request has been in progress for `quiet` seconds (stragglers of a run)."""
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            with self._flight_lock:
                busy = self._in_flight > 0
            now = time.monotonic()
            if busy:
                quiet_since = now
            elif now - quiet_since >= quiet:
                return
            time.sleep(0.02)

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[None]:
        """Count one request as being answered for the duration of the block."""
        with self._flight_lock:
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._flight_lock:
                self._in_flight -= 1

    @property
    def requests(self) -> list[RequestLog]:
        """Every request received, in arrival-of-answer order."""
        with self.lock:
            return list(self._log)

    def count(self, path: str | None = None) -> int:
        """Number of requests received, for one API path or in total."""
        with self.lock:
            if path is None:
                return len(self._log)
            path = path.lstrip("/")
            return sum(1 for entry in self._log if entry.path == path)

    def clear_log(self) -> None:
        """Forget logged requests and the recorded peak QPS."""
        with self.lock:
            self._log.clear()
            self._limiter.reset_peak()
        with self._qps_lock:
            for limiter in self._path_limiters.values():
                limiter.reset_peak()
        with self._flight_lock:
            self._peak_in_flight = self._in_flight

    # ----- request processing (called from handler threads) -----

    def _new_request_id(self) -> str:
        """34 characters: UTC timestamp plus upper-case hex, like TikTok's request_id."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        return f"{stamp}{next(self._request_counter) % 16**8:08X}{secrets.token_hex(6).upper()}"

    def _record(self, entry: RequestLog) -> None:
        with self.lock:
            self._log.append(entry)

    def _take_fault(self, path: str, params: Params) -> Fault | None:
        with self.lock:
            return self.faults.take(path, params.values)

    def _envelope(self, code: int, message: str, data: dict[str, Any]) -> tuple[_Reply, str]:
        request_id = self._new_request_id()
        body = {"code": code, "message": message, "request_id": request_id, "data": data}
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return _Reply(200, payload, "application/json", {"X-Tt-Logid": request_id}), request_id

    def _admit(self, api_path: str) -> bool:
        """Count a request against the app's QPS (and its path's) as it arrives; False if over."""
        # Its own lock: a report being computed under `lock` must not delay arrivals.
        with self._qps_lock:
            now = time.monotonic()
            path_limiter = self._path_limiters.get(api_path)
            if path_limiter is not None and not path_limiter.has_room(now):
                return False
            if not self._limiter.try_acquire(now):
                return False
            if path_limiter is not None:
                path_limiter.try_acquire(now)
            return True

    def _dispatch(
        self,
        route: Route,
        path: str,
        method: str,
        params: Params,
        token: str | None,
        admitted: bool,
    ) -> tuple[int, str, dict]:
        """Apply the QPS verdict, auth and the handler; returns (code, message, data)."""
        with self.lock:
            try:
                if not admitted:
                    raise ApiError(QPS_LIMIT, qps_limit_message(self.app_id))
                if route.needs_token:
                    self.tokens.check(token)
                if params.body_error is not None:
                    raise params.body_error
                data = self.page_shifts.serve(
                    Call(self, path, method, params, token), route.handler
                )
            except ApiError as error:
                return error.code, error.message, {}
        return OK, "OK", data

    def handle(
        self, method: str, raw_path: str, body: bytes, headers: dict[str, str]
    ) -> _Reply | None:
        """Answer one HTTP request; None means 'close the connection without answering'."""
        url = urlsplit(raw_path)
        api_path = url.path[len(API_PREFIX) :] if url.path.startswith(API_PREFIX) else url.path
        params = Params.from_request(url.query, body)
        route = self._routes.get(api_path) if url.path.startswith(API_PREFIX) else None

        def log(
            reply: _Reply | None, code: int | None, fault: str | None, request_id: str | None = None
        ) -> None:
            status = reply.status if reply is not None else None
            self._record(
                RequestLog(
                    api_path, method, dict(params.values), headers, code, status, fault, request_id
                )
            )

        if url.path == AUTHORIZATION_PAGE and method == "GET":
            status, text = authorization_redirect(self, params)
            headers = {"Location": text} if status == 302 else {}
            reply = _Reply(status, text.encode(), "text/plain; charset=utf-8", headers)
            log(reply, None, None)
            return reply

        if route is None:
            reply = _Reply(404, b"404 page not found", "text/plain; charset=utf-8")
            log(reply, None, None)
            return reply

        # The gateway counts a request when it arrives, before any time spent answering it.
        admitted = self._admit(api_path)
        fault = self._take_fault(api_path, params)
        if fault is not None and fault.kind != "slow":
            return self._fault_reply(fault, log)
        if fault is not None:
            time.sleep(fault.delay)
        fault_name = fault.kind if fault is not None else None

        if method not in route.methods:
            reply = _Reply(405, b"405 method not allowed", "text/plain; charset=utf-8")
            log(reply, None, fault_name)
            return reply

        token = next(
            (value for name, value in headers.items() if name.lower() == "access-token"), None
        )
        try:
            code, message, data = self._dispatch(route, api_path, method, params, token, admitted)
        except Exception:
            with self.lock:
                self.errors.append(traceback.format_exc())
            reply = _Reply(
                500, b"fake API internal error; see api.errors", "text/plain; charset=utf-8"
            )
            log(reply, None, fault_name)
            return reply
        reply, request_id = self._envelope(code, message, data)
        log(reply, code, fault_name, request_id)
        return reply

    def _fault_reply(self, fault: Fault, log: Callable[..., None]) -> _Reply | None:
        if fault.kind == "drop":
            log(None, None, fault.kind)
            return None
        if fault.kind == "http":
            reply = _Reply(fault.status, html_error_page(fault.status), "text/html")
            log(reply, None, fault.kind)
            return reply
        if fault.kind == "code":
            reply, request_id = self._envelope(
                fault.code, fault.message or _fault_message(fault, self.app_id), {}
            )
            log(reply, fault.code, fault.kind, request_id)
            return reply
        # truncated / short_body: a plausible success envelope of which only half is delivered.
        full, request_id = self._envelope(
            OK,
            "OK",
            {
                "list": [],
                "page_info": {"page": 1, "page_size": 10, "total_number": 0, "total_page": 0},
            },
        )
        announced = len(full.body) if fault.kind == "short_body" else None
        reply = _Reply(200, first_half(full.body), full.content_type, full.headers, announced)
        log(reply, None, fault.kind, request_id)
        return reply


def _fault_message(fault: Fault, app_id: str) -> str:
    if fault.code == QPS_LIMIT:
        return qps_limit_message(app_id)
    return default_message(fault.code)


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its FakeMarketingAPI and can close keep-alive connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], api: FakeMarketingAPI
    ) -> None:
        self.api = api
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down sockets of idle keep-alive connections so their threads end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler; every answer carries Content-Length."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle plus delayed ACK adds ~40 ms.
    disable_nagle_algorithm = True
    server_version = "FakeTikTokMarketingAPI/1.3"
    timeout = 60
    server: _Server

    def do_GET(self) -> None:
        """Serve GET."""
        self._serve("GET")

    def do_POST(self) -> None:
        """Serve POST."""
        self._serve("POST")

    def do_PUT(self) -> None:
        """Serve PUT (always 404/405)."""
        self._serve("PUT")

    def do_DELETE(self) -> None:
        """Serve DELETE (always 404/405)."""
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; the API keeps its own request log."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self, method: str) -> None:
        body = self._read_body()
        headers = dict(self.headers.items())
        with self.server.api.in_flight():
            reply = self.server.api.handle(method, self.path, body, headers)
        if reply is None:
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(reply.content_length))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()
        if reply.content_length != len(reply.body):
            self.close_connection = True
