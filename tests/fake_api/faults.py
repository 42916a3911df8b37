"""Fault injection: what can go wrong, how often, and on which path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

FAULT_KINDS = ("http", "code", "slow", "drop", "truncated", "short_body")


@dataclass
class Fault:
    """A misbehaviour served instead of (or, for "slow", before) the normal answer, `times` times.

    Kinds: "http" (status with an HTML body), "code" (HTTP 200 envelope with `code`, data {}),
    "slow" (sleep `delay` seconds, then answer normally), "drop" (close the socket, no response),
    "truncated" (HTTP 200, half a JSON body with a matching Content-Length),
    "short_body" (full Content-Length announced, half the body sent, then close).
    With `skip`, the first `skip` matching requests are served normally (a failure mid-run).
    """

    kind: str
    times: int = 1
    path: str | None = None
    code: int = 50000
    status: int = 500
    delay: float = 1.0
    message: str | None = None
    skip: int = 0  # matching requests served normally before the fault starts firing
    # Only requests whose parameters have these values (e.g. one advertiser's one window).
    when: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {FAULT_KINDS}")
        if self.times < 1:
            raise ValueError("times must be >= 1")
        if self.kind == "http" and not 400 <= self.status <= 599:
            raise ValueError("http faults need a 4xx/5xx status")
        if self.kind == "code" and self.code == 0:
            raise ValueError("code faults need a non-zero code")
        if self.path is not None:
            self.path = self.path.lstrip("/")

    def matches(self, path: str, params: Mapping[str, Any] | None = None) -> bool:
        """Whether this fault applies to a request: its API path and, with `when`, its params."""
        if self.path is not None and self.path != path:
            return False
        sent = params or {}
        return all(
            sent.get(name) == value or str(sent.get(name)) == str(value)
            for name, value in self.when.items()
        )


class FaultQueue:
    """Pending faults in injection order; not locked itself (the server holds its lock)."""

    def __init__(self) -> None:
        self.pending: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue a fault."""
        self.pending.append(fault)

    def clear(self) -> None:
        """Drop every pending fault."""
        self.pending.clear()

    def take(self, path: str, params: Mapping[str, Any] | None = None) -> Fault | None:
        """Consume one use of the first fault matching the path."""
        for fault in self.pending:
            if fault.matches(path, params):
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                if fault.times == 0:
                    self.pending.remove(fault)
                return fault
        return None


def html_error_page(status: int) -> bytes:
    """The kind of HTML page a gateway returns for an HTTP-level error."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n"
        f"<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    ).encode()


def first_half(body: bytes) -> bytes:
    """Cut a body in half (a cut JSON object never parses: its closing brace is gone)."""
    return body[: max(1, len(body) // 2)]
