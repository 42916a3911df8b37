"""The current time, in one place so tests can pin it."""

from __future__ import annotations

import datetime


def utc_now() -> datetime.datetime:
    """The current moment, aware, in UTC."""
    return datetime.datetime.now(datetime.timezone.utc)
