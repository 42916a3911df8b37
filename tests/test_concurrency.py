"""Requests in flight: what goes out together, and that the output contract still holds."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import signal
import subprocess
import time

import pytest

from tap_tiktok_reporting.api.errors import TikTokAPIError
from tests.conftest import TAP_EXECUTABLE, catalog_selecting, run_sync, tap_config
from tests.fake_api import Fault

REPORT_PATH = "report/integrated/get/"
STREAMS = ["campaigns", "ads", "ad_report_daily"]
# Two 30-date windows and a 1-date one per advertiser.
WINDOW = {"start_date": "2025-01-01", "end_date": "2025-03-01", "lookback_days": 0}


def without_extraction_times(messages):
    """RECORD and STATE messages as they would load, less the SDK's own time stamps."""
    kept = []
    for message in messages:
        if message["type"] in ("RECORD", "STATE"):
            kept.append({k: v for k, v in message.items() if k != "time_extracted"})
    return kept


def test_requests_go_out_together_and_the_output_is_that_of_one_at_a_time(api):
    api.inject(Fault(kind="slow", delay=0.05, times=10**6))
    one_at_a_time = run_sync(
        tap_config(api, max_requests_in_flight=1, page_size=5, **WINDOW), streams=STREAMS
    )
    assert api.peak_in_flight == 1
    asked_one_at_a_time = sorted(str(sorted(r.params.items())) for r in api.requests)
    api.clear_log()
    together = run_sync(
        tap_config(api, max_requests_in_flight=8, page_size=5, **WINDOW), streams=STREAMS
    )
    # Several advertisers' pages and windows were asked for at once, never more than allowed.
    assert 3 <= api.peak_in_flight <= 8
    # ...and no page was fetched ahead in vain, nor twice.
    assert sorted(str(sorted(r.params.items())) for r in api.requests) == asked_one_at_a_time
    # Record for record and state for state, in the same order.
    assert without_extraction_times(together.messages) == without_extraction_times(
        one_at_a_time.messages
    )
    assert len(together.records["ad_report_daily"]) > 50


def test_the_next_streams_pages_are_fetched_while_this_ones_are_read(api):
    api.inject(Fault(kind="slow", delay=0.1, times=10**6))
    out = run_sync(
        tap_config(api, max_requests_in_flight=8, page_size=2, **WINDOW),
        streams=["campaigns", "advertiser_report_daily"],
    )
    # The streams come out one after the other, as a one-at-a-time run writes them.
    kinds = [m["stream"] for m in out.messages if m["type"] == "RECORD"]
    first, second = dict.fromkeys(kinds)
    assert kinds == [first] * kinds.count(first) + [second] * kinds.count(second)
    # But the second stream's first pages went out before the first stream's last ones (its
    # pages 2 and on, which go out once page 1 gave the page count).
    # (An advertiser-level report needs no TopView lookup, so campaign/get/ is the stream's own.)
    path_of = {"campaigns": "campaign/get/", "advertiser_report_daily": REPORT_PATH}
    paths = [r.path for r in api.requests if r.method == "GET"]
    last_of_first = max(i for i, path in enumerate(paths) if path == path_of[first])
    assert paths.index(path_of[second]) < last_of_first
    assert len(out.records["campaigns"]) == len(api.data.campaigns)


def test_the_shared_limit_holds_with_many_requests_in_flight(api):
    api.qps_limit = 10
    api.inject(Fault(kind="slow", delay=0.2, times=10**6))
    config = tap_config(
        api, max_requests_per_second=8, max_requests_in_flight=16, page_size=2, **WINDOW
    )
    out = run_sync(config, streams=["campaigns", "ad_groups", "ads"])
    assert api.count() > 30
    assert api.peak_in_flight >= 2  # the 0.2 s latency was covered by several in flight
    assert not [r for r in api.requests if r.code == 40100]
    assert len(out.records["ads"]) == len(api.data.ads)


def read_until_killed(command, env, states_before_kill):
    """Run the tap, kill -9 it once `states_before_kill` STATE lines are out; its stdout."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    lines, states = [], 0
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if b'"type":"STATE"' in line.replace(b" ", b""):
            states += 1
            if states == states_before_kill:
                process.send_signal(signal.SIGKILL)
                break
    process.wait(timeout=30)
    # Whatever the pipe still held when the process died is output too.
    lines.extend(process.stdout.read().splitlines(keepends=True))
    return [json.loads(line) for line in lines if line.strip().endswith(b"}")]


@pytest.mark.parametrize("states_before_kill", [2, 4])
def test_a_run_killed_at_any_moment_resumes_from_its_last_state_with_nothing_lost(
    api, tmp_path, states_before_kill
):
    api.inject(Fault(kind="slow", delay=0.03, times=10**6))
    config = tap_config(api, page_size=4, max_requests_in_flight=6, **WINDOW)
    catalog = catalog_selecting(config, STREAMS)
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    base = [TAP_EXECUTABLE, "--config", str(tmp_path / "config.json")]
    base += ["--catalog", str(tmp_path / "catalog.json")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_")}

    killed = read_until_killed(base, env, states_before_kill)
    states = [m["value"] for m in killed if m["type"] == "STATE"]
    # The pipe may hold a STATE or two written just before the kill landed: they are out too.
    assert len(states) >= states_before_kill
    (tmp_path / "state.json").write_text(json.dumps(states[-1]))
    resumed = subprocess.run(
        [*base, "--state", str(tmp_path / "state.json")],
        capture_output=True,
        env=env,
        timeout=120,
        check=True,
    )
    # A target commits what came before the last STATE of the killed run; the resumed run
    # must bring the rest.
    last_state = max(i for i, m in enumerate(killed) if m["type"] == "STATE")
    resumed_messages = [json.loads(ln) for ln in resumed.stdout.splitlines() if ln.strip()]
    got = {
        record_key(m["stream"], m["record"])
        for m in killed[: last_state + 1] + resumed_messages
        if m["type"] == "RECORD"
    }
    assert got == truth(api)
    # The kill landed mid-run: the killed run alone had not brought everything.
    before_kill = {record_key(m["stream"], m["record"]) for m in killed if m["type"] == "RECORD"}
    assert before_kill < got


def record_key(stream, record):
    keys = {"campaigns": ("campaign_id",), "ads": ("ad_id",)}
    names = keys.get(stream, ("ad_id", "stat_time_day"))
    return (stream, record["advertiser_id"], *(record[n] for n in names))


def truth(api):
    """Every key the three streams hold, from the fake's own data."""
    keys = {("campaigns", c["advertiser_id"], c["campaign_id"]) for c in api.data.campaigns}
    keys |= {("ads", a["advertiser_id"], a["ad_id"]) for a in api.data.ads}
    status_all = [
        {"field_name": "ad_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
    ]
    for advertiser in api.data.advertisers:
        advertiser_id = advertiser["advertiser_id"]
        for start, end in [("2025-01-01", "2025-01-30"), ("2025-01-31", "2025-03-01")]:
            rows = api.complete_report_rows(
                advertiser_id,
                report_type="BASIC",
                data_level="AUCTION_AD",
                dimensions=["ad_id", "stat_time_day"],
                metrics=["spend"],
                start_date=datetime.date.fromisoformat(start),
                end_date=datetime.date.fromisoformat(end),
                filtering=status_all,
            )
            keys |= {
                (
                    "ad_report_daily",
                    advertiser_id,
                    r["dimensions"]["ad_id"],
                    r["dimensions"]["stat_time_day"][:10],
                )
                for r in rows
            }
    return keys


@pytest.mark.parametrize(
    "fault",
    [Fault(kind="code", code=40100, times=1), Fault(kind="http", status=429, times=1)],
    ids=["code-40100", "http-429"],
)
def test_a_rate_limit_answer_pauses_every_request_of_the_run(api, fault):
    # With requests in flight, the refused one and the others must not all retry at once:
    # nothing reaches the fake in the second after TikTok says the app is over its limit.
    # The refusal goes first in the queue: the first matching fault is the one served.
    api.inject(dataclasses.replace(fault, path="ad/get/", skip=2))
    api.inject(Fault(kind="slow", delay=0.05, times=10**6))
    config = tap_config(api, page_size=2, max_requests_in_flight=6)
    out = run_sync(config, streams=["ads"])
    assert len(out.records["ads"]) == len(api.data.ads)
    refused = next(r for r in api.requests if r.fault in ("code", "http"))
    later = [r.at for r in api.requests if r.at > refused.at]
    answered_within = [at for at in later if at - refused.at < 0.9]
    # Requests already past the limiter when the answer came may still land (at most the
    # others in flight); none is started in the pause.
    assert len(answered_within) <= 5
    assert later and max(later) - refused.at >= 0.9


def test_pages_fetched_ahead_stop_retrying_once_a_run_has_failed(api):
    # The run fails on the first advertiser's page 2 while its later pages are in flight,
    # retrying 503s. Those retries must end with the run, not go on for max_retry_seconds.
    first = api.data.advertisers[0]["advertiser_id"]
    api.inject(Fault(kind="code", code=40105, path="ad/get/", when={"page": 2}, times=10**6))
    for page in range(3, 9):
        api.inject(Fault(kind="http", status=503, path="ad/get/", when={"page": page}, times=10**6))
    config = tap_config(api, page_size=1, max_requests_in_flight=6, advertiser_ids=[first])
    run_sync(config, streams=["ads"], expect_error=TikTokAPIError)
    sent_by_the_end = api.count()
    time.sleep(5)
    # At most one last attempt per request thread: one that was waiting to retry when the
    # run ended sends it, fails again and gives up.
    assert api.count() - sent_by_the_end <= 6
