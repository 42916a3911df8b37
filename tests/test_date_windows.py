"""Report date ranges and request windows."""

from __future__ import annotations

import datetime

import pytest

from tap_tiktok_reporting.reports.date_windows import DateWindow, date_windows, report_range

D = datetime.date


def test_thirty_dates_inclusive_per_window():
    windows = date_windows(D(2025, 1, 1), D(2025, 3, 31), 30)
    assert [(w.start, w.end) for w in windows] == [
        (D(2025, 1, 1), D(2025, 1, 30)),
        (D(2025, 1, 31), D(2025, 3, 1)),
        (D(2025, 3, 2), D(2025, 3, 31)),
    ]
    assert all(w.days <= 30 for w in windows)
    assert windows[0].days == 30


def test_windows_cover_every_date_once_across_month_ends_and_a_leap_day():
    start, end = D(2024, 1, 15), D(2024, 4, 2)
    windows = date_windows(start, end, 30)
    covered = [w.start + datetime.timedelta(days=i) for w in windows for i in range(w.days)]
    assert covered == [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
    assert D(2024, 2, 29) in covered
    assert windows[1] == DateWindow(D(2024, 2, 14), D(2024, 3, 14))


def test_hourly_windows_are_single_days():
    windows = date_windows(D(2024, 2, 28), D(2024, 3, 1), 1)
    assert [w.start for w in windows] == [D(2024, 2, 28), D(2024, 2, 29), D(2024, 3, 1)]
    assert all(w.start == w.end for w in windows)


def test_single_day_and_empty_ranges():
    assert date_windows(D(2025, 5, 5), D(2025, 5, 5), 30) == [
        DateWindow(D(2025, 5, 5), D(2025, 5, 5))
    ]
    assert date_windows(D(2025, 5, 6), D(2025, 5, 5), 30) == []
    with pytest.raises(ValueError, match="at least 1"):
        date_windows(D(2025, 5, 5), D(2025, 5, 6), 0)


def test_halves_split_a_window_in_two_without_gaps():
    first, second = DateWindow(D(2025, 1, 1), D(2025, 1, 30)).halves()
    assert first == DateWindow(D(2025, 1, 1), D(2025, 1, 15))
    assert second == DateWindow(D(2025, 1, 16), D(2025, 1, 30))
    first, second = DateWindow(D(2025, 1, 1), D(2025, 1, 3)).halves()
    assert (first.days, second.days) == (1, 2)


@pytest.mark.parametrize(
    ("start_date", "end_date", "bookmark", "lookback", "today", "expected"),
    [
        # first run: start_date to the advertiser's today
        (D(2025, 1, 1), None, None, 7, D(2025, 2, 10), (D(2025, 1, 1), D(2025, 2, 10))),
        # later runs re-read the lookback...
        (D(2025, 1, 1), None, D(2025, 2, 10), 7, D(2025, 2, 12), (D(2025, 2, 3), D(2025, 2, 12))),
        # ...but never before start_date
        (D(2025, 2, 8), None, D(2025, 2, 10), 7, D(2025, 2, 12), (D(2025, 2, 8), D(2025, 2, 12))),
        # without lookback the bookmark day itself is read again (it may have been partial)
        (D(2025, 1, 1), None, D(2025, 2, 10), 0, D(2025, 2, 12), (D(2025, 2, 10), D(2025, 2, 12))),
        # end_date caps the range
        (D(2025, 1, 1), D(2025, 1, 31), None, 7, D(2025, 3, 1), (D(2025, 1, 1), D(2025, 1, 31))),
        # the future is never asked for
        (D(2025, 1, 1), D(2030, 1, 1), None, 7, D(2025, 3, 1), (D(2025, 1, 1), D(2025, 3, 1))),
        # nothing is due once the bookmark is past end_date
        (D(2025, 1, 1), D(2025, 1, 31), D(2025, 3, 1), 7, D(2025, 3, 2), None),
    ],
)
def test_report_range(start_date, end_date, bookmark, lookback, today, expected):
    due = report_range(
        start_date=start_date,
        end_date=end_date,
        bookmark=bookmark,
        lookback_days=lookback,
        today=today,
    )
    assert due == (DateWindow(*expected) if expected else None)
