"""Benchmark: extraction against the fake API, with configurable latency, QPS and workload.

Runs `tap-tiktok` as a subprocess against the fake API on loopback and prints wall time, the tap's
CPU time per row, requests, peak requests in flight, achieved requests/s against the allowed rate,
peak memory, and whether every row matches the fake's truth. The default workload is the one the
peers were measured on: the built-in ad-level daily report (about 55 metrics), 5 advertisers,
450 ads, 91 days. Usage (from the repository root, in the tap's virtualenv):

    python -m bench.report_extraction                            # no latency, no QPS limit
    python -m bench.report_extraction --latency 0.3 --qps 10     # TikTok-like latency, Basic tier
    python -m bench.report_extraction --advertisers 20 --latency 0.3 --qps 10 \\
        --streams campaigns,ad_groups,ads,ad_report_daily
    python -m bench.report_extraction --devnull                  # CPU per row, records to /dev/null
    python -m bench.report_extraction --serve-only               # also time the fake alone
    python -m bench.report_extraction --save out.jsonl           # keep the tap's output
"""

from __future__ import annotations

import argparse
import collections
import datetime
import http.client
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests.fake_api import DatasetSpec, FakeMarketingAPI, Fault

START = datetime.date(2025, 1, 1)
REPORT_PATH = "report/integrated/get/"
ENTITY_KEYS = {"campaigns": "campaign_id", "ad_groups": "adgroup_id", "ads": "ad_id"}
# Report streams this bench knows how to check: their level and id dimension, written here.
REPORT_LEVELS = {
    "ad_report_daily": ("AUCTION_AD", "ad_id", "ad_status"),
    "ad_group_report_daily": ("AUCTION_ADGROUP", "adgroup_id", "adgroup_status"),
    "campaign_report_daily": ("AUCTION_CAMPAIGN", "campaign_id", "campaign_status"),
}


def spec_for(advertisers: int, ads_per_adgroup: int) -> DatasetSpec:
    """The peers' account shape (90 ads per advertiser by default), for any number of them."""
    return DatasetSpec(
        seed=3,
        advertisers=advertisers,
        campaigns_per_advertiser=5,
        adgroups_per_campaign=3,
        ads_per_adgroup=ads_per_adgroup,
    )


def report_truth(api: FakeMarketingAPI, stream: str, end: datetime.date) -> set[tuple]:
    """Keys of the report's rows by the fake's own truth: (advertiser, object id, date)."""
    data_level, id_dimension, status_field = REPORT_LEVELS[stream]
    filtering = [
        {"field_name": status_field, "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
    ]
    keys = set()
    for advertiser in api.data.advertisers:
        advertiser_id = advertiser["advertiser_id"]
        start = START
        while start <= end:
            window_end = min(end, start + datetime.timedelta(days=29))
            rows = api.complete_report_rows(
                advertiser_id,
                report_type="BASIC",
                data_level=data_level,
                dimensions=[id_dimension, "stat_time_day"],
                metrics=["spend"],
                start_date=start,
                end_date=window_end,
                filtering=filtering,
            )
            for row in rows:
                dims = row["dimensions"]
                keys.add((advertiser_id, dims[id_dimension], dims["stat_time_day"][:10]))
            start = window_end + datetime.timedelta(days=1)
    return keys


def record_key(stream: str, record: dict) -> tuple:
    """The key the truth is written in, read off an emitted record."""
    if stream in ENTITY_KEYS:
        return (record["advertiser_id"], record[ENTITY_KEYS[stream]])
    _, id_dimension, _ = REPORT_LEVELS[stream]
    return (record["advertiser_id"], record[id_dimension], record["stat_time_day"])


def entity_truth(api: FakeMarketingAPI, stream: str) -> set[tuple]:
    """Keys of every object of an entity stream (deleted ones included), from the fake's data."""
    rows = {"campaigns": api.data.campaigns, "ad_groups": api.data.ad_groups, "ads": api.data.ads}
    return {(r["advertiser_id"], r[ENTITY_KEYS[stream]]) for r in rows[stream]}


def tap_command(tap_path: str | None) -> tuple[list[str], dict[str, str]]:
    """The tap's command: the installed one, or the package under `tap_path` (an old checkout)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_")}
    # An installed tap has its bytecode compiled (pip does it); without it, every run of the
    # tap compiles the package again, which counts as CPU per row.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if tap_path is None:
        return [str(Path(sys.executable).with_name("tap-tiktok"))], env
    env["PYTHONPATH"] = tap_path
    code = "from tap_tiktok_reporting.tap import TapTikTok; TapTikTok.cli()"
    return [sys.executable, "-c", code], env


def serve_only_seconds(api: FakeMarketingAPI) -> float:
    """Time the fake alone needs to answer the run's requests again, one after the other."""
    logged = [r for r in api.requests if r.method == "GET"]
    api.delivery.results.clear()  # computed afresh, as the tap's run had them computed
    url = urlsplit(api.base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port)
    started = time.perf_counter()
    for entry in logged:
        query = urlencode(
            {
                k: json.dumps(v, separators=(",", ":")) if isinstance(v, (list, dict)) else v
                for k, v in entry.params.items()
            }
        )
        connection.request("GET", f"{url.path}/{entry.path}?{query}", headers=entry.headers)
        body = connection.getresponse().read()
        if b'"code":0' not in body.replace(b" ", b""):
            raise RuntimeError(f"the fake refused a replayed request: {body[:200]!r}")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def print_timeline(api: FakeMarketingAPI, started_at: float) -> None:
    """Requests answered in each second of the run, by endpoint (where the pipe ran dry)."""
    seconds: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for entry in api.requests:
        seconds[int(entry.at - started_at)][entry.path.split("/")[0]] += 1
    for second in range(max(seconds, default=-1) + 1):
        counts = seconds.get(second, collections.Counter())
        detail = ", ".join(f"{path} {n}" for path, n in sorted(counts.items()))
        print(f"  second {second:3d}: {sum(counts.values()):3d}  {detail}")


def watch_peak_rss(process: subprocess.Popen) -> int:
    """The process's own peak RSS in kB, read from /proc until it ends.

    Not `ru_maxrss` of the children: a child forked from this process (which holds the fake's
    data) starts out counted at this process's size.
    """
    peak = 0
    status = Path(f"/proc/{process.pid}/status")
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    while process.poll() is None:
        try:
            if b"--catalog" not in cmdline.read_bytes():
                continue  # not exec'd yet: still a copy of this process
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        finally:
            time.sleep(0.05)
    return peak


def main() -> None:
    """Run once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds per request at the fake"
    )
    parser.add_argument("--qps", type=int, default=0, help="the fake's app QPS limit (0: none)")
    parser.add_argument(
        "--rate", type=float, default=10.0, help="the tap's max_requests_per_second"
    )
    parser.add_argument("--in-flight", type=int, default=None, help="max_requests_in_flight")
    parser.add_argument(
        "--advertisers-per-request",
        type=int,
        default=None,
        help="advertisers_per_report_request (1: one advertiser per report request)",
    )
    parser.add_argument("--advertisers", type=int, default=5)
    parser.add_argument("--ads-per-adgroup", type=int, default=6)
    parser.add_argument("--days", type=int, default=91, help="report dates from 2025-01-01")
    parser.add_argument("--streams", default="ad_report_daily", help="comma-separated streams")
    parser.add_argument("--devnull", action="store_true", help="write records to /dev/null")
    parser.add_argument("--serve-only", action="store_true", help="also time the fake alone")
    parser.add_argument(
        "--timeline", action="store_true", help="also print requests per second, by path"
    )
    parser.add_argument("--save", help="keep the tap's standard output in this file")
    parser.add_argument("--tap-path", help="run the tap package found under this directory")
    args = parser.parse_args()

    streams = [s.strip() for s in args.streams.split(",") if s.strip()]
    end = START + datetime.timedelta(days=args.days - 1)
    spec = spec_for(args.advertisers, args.ads_per_adgroup)
    command, env = tap_command(args.tap_path)

    with (
        FakeMarketingAPI(spec, qps_limit=args.qps or None) as api,
        tempfile.TemporaryDirectory() as tmp,
    ):
        truth = {
            s: entity_truth(api, s) if s in ENTITY_KEYS else report_truth(api, s, end)
            for s in streams
        }
        config = {
            "access_token": api.access_token,
            "api_base_url": api.base_url,
            "advertiser_ids": [a["advertiser_id"] for a in api.data.advertisers],
            "start_date": START.isoformat(),
            "end_date": end.isoformat(),
            "max_requests_per_second": args.rate,
        }
        if args.in_flight:
            config["max_requests_in_flight"] = args.in_flight
        if args.advertisers_per_request:
            config["advertisers_per_report_request"] = args.advertisers_per_request
        config_path = Path(tmp) / "config.json"
        config_path.write_text(json.dumps(config))
        discovered = subprocess.run(
            [*command, "--config", str(config_path), "--discover"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=args.tap_path,  # an old checkout's package wins over this one
        )
        catalog = json.loads(discovered.stdout)
        for stream in catalog["streams"]:
            for entry in stream["metadata"]:
                if entry["breadcrumb"] == []:
                    entry["metadata"]["selected"] = stream["tap_stream_id"] in streams
        catalog_path = Path(tmp) / "catalog.json"
        catalog_path.write_text(json.dumps(catalog))
        if args.latency:
            api.inject(Fault(kind="slow", delay=args.latency, times=10**9))
        api.clear_log()

        output_path = Path(os.devnull) if args.devnull else Path(args.save or Path(tmp) / "out")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started, started_at = time.perf_counter(), time.time()
        with output_path.open("wb") as output:
            tap = subprocess.Popen(
                [*command, "--config", str(config_path), "--catalog", str(catalog_path)],
                stdout=output,
                stderr=subprocess.DEVNULL,
                env=env,
                cwd=args.tap_path,  # an old checkout's package wins over this one
            )
            peak_rss_kb = watch_peak_rss(tap)
            if tap.returncode != 0:
                raise SystemExit(f"the tap failed with exit code {tap.returncode}")
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        requests_sent = api.count()
        rate_limited = sum(1 for r in api.requests if r.code == 40100)
        peak_in_flight, peak_qps = api.peak_in_flight, api.peak_qps

        expected_rows = sum(len(keys) for keys in truth.values())
        if args.devnull:
            emitted, right = expected_rows, "not checked (--devnull)"
        else:
            got: dict[str, list[tuple]] = {s: [] for s in streams}
            with output_path.open("rb") as lines:
                for line in lines:
                    message = json.loads(line)
                    if message.get("type") == "RECORD":
                        stream = message["stream"]
                        got[stream].append(record_key(stream, message["record"]))
            emitted = sum(len(keys) for keys in got.values())
            ok = all(len(got[s]) == len(set(got[s])) and set(got[s]) == truth[s] for s in streams)
            right = (
                "all"
                if ok
                else "NO: "
                + ", ".join(
                    f"{s} {len(got[s])} emitted, {len(set(got[s]))} unique, {len(truth[s])} truth"
                    for s in streams
                )
            )

        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(
            f"workload          {', '.join(streams)}; {args.advertisers} advertisers, "
            f"{len(api.data.ads)} ads, {args.days} days"
        )
        print(f"rows              {emitted} emitted, {expected_rows} in the fake's truth")
        print(f"rows right        {right}")
        reports = api.count(REPORT_PATH)
        print(
            f"requests          {requests_sent} ({reports} report, {requests_sent - reports} other)"
        )
        print(
            f"wall              {wall:.2f} s (latency {args.latency:.2f} s, "
            f"fake QPS limit {args.qps or 'none'})"
        )
        # The first request's answer is logged once answered: less the latency, its arrival.
        startup = min(r.at for r in api.requests) - started_at - args.latency
        bound = 1.2 * requests_sent / args.rate + startup
        print(
            f"start-up          {startup:.2f} s to the first request; the issue's bound "
            f"1.2 x requests / rate + start-up = {bound:.2f} s"
        )
        print(
            f"achieved          {requests_sent / wall:.2f} requests/s of {args.rate:g} allowed; "
            f"peak {peak_qps} in one second at the fake; {rate_limited} answered 40100"
        )
        print(f"peak in flight    {peak_in_flight}")
        print(
            f"tap CPU           {cpu:.2f} s, {1e6 * cpu / max(1, emitted):.1f} µs per row "
            "(whole process, start-up included)"
        )
        print(f"tap peak RSS      {peak_rss_kb / 1024:.0f} MB")
        if args.timeline:
            print_timeline(api, started_at)
        if args.serve_only:
            api.clear_faults()
            api.qps_limit = None
            alone = serve_only_seconds(api)
            print(
                f"fake alone        {alone:.2f} s to serve the same requests one by one "
                f"(tap wall / fake alone = {wall / alone:.2f})"
            )


if __name__ == "__main__":
    main()
