"""Report date ranges: where a run starts and ends, and the request windows in between."""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class DateWindow:
    """An inclusive span of report dates."""

    start: datetime.date
    end: datetime.date

    @property
    def days(self) -> int:
        """Dates in the window, both ends included."""
        return (self.end - self.start).days + 1

    def halves(self) -> tuple[DateWindow, DateWindow]:
        """The window split in two (for TikTok's "query too large")."""
        first_end = self.start + datetime.timedelta(days=self.days // 2 - 1)
        return DateWindow(self.start, first_end), DateWindow(
            first_end + datetime.timedelta(days=1), self.end
        )


def date_windows(start: datetime.date, end: datetime.date, max_days: int) -> list[DateWindow]:
    """Consecutive windows of at most `max_days` dates covering `start`..`end` inclusive."""
    if max_days < 1:
        msg = "max_days must be at least 1"
        raise ValueError(msg)
    windows = []
    step = datetime.timedelta(days=max_days - 1)
    while start <= end:
        window_end = min(start + step, end)
        windows.append(DateWindow(start, window_end))
        start = window_end + datetime.timedelta(days=1)
    return windows


def report_range(
    *,
    start_date: datetime.date,
    end_date: datetime.date | None,
    bookmark: datetime.date | None,
    lookback_days: int,
    today: datetime.date,
) -> DateWindow | None:
    """The dates a run reads, or None when nothing is due.

    From the bookmark less the lookback (never before `start_date`) to `end_date` or the
    advertiser's today, whichever is earlier.
    """
    start = (
        start_date
        if bookmark is None
        else max(start_date, bookmark - datetime.timedelta(days=lookback_days))
    )
    end = min(end_date, today) if end_date else today
    return DateWindow(start, end) if start <= end else None
