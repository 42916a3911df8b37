"""Benchmark: the ad-level daily report the peers were measured on (5 advertisers, 450 ads, 91 days).

Runs `tap-tiktok` as a subprocess against the fake API on loopback and prints wall time, the tap's
CPU time per row, peak memory, the number of requests, and whether every row matches the fake's
truth. Usage (from the repository root, in the tap's virtualenv):

    python -m bench.report_extraction                     # no latency, no QPS limit on the fake
    python -m bench.report_extraction --latency 0.3 --qps 10
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fake_api import DatasetSpec, FakeMarketingAPI, Fault

SPEC = DatasetSpec(
    seed=3, advertisers=5, campaigns_per_advertiser=5, adgroups_per_campaign=3, ads_per_adgroup=6
)
START, END = datetime.date(2025, 1, 1), datetime.date(2025, 4, 1)  # 91 dates
METRICS = [
    "spend",
    "impressions",
    "clicks",
    "ctr",
    "cpc",
    "cpm",
    "conversion",
    "cost_per_conversion",
    "ad_name",
]
REPORT = {"name": "bench_ad_daily", "data_level": "AD", "metrics": METRICS}
PATH = "report/integrated/get/"


def truth_count(api: FakeMarketingAPI) -> int:
    """Rows the fake holds for the report, counted from its own truth."""
    filtering = [{"field_name": "ad_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}]
    total = 0
    for advertiser in api.data.advertisers:
        start = START
        while start <= END:
            end = min(END, start + datetime.timedelta(days=29))
            total += len(
                api.report_rows(
                    advertiser["advertiser_id"],
                    report_type="BASIC",
                    data_level="AUCTION_AD",
                    dimensions=["ad_id", "stat_time_day"],
                    metrics=METRICS,
                    start_date=start,
                    end_date=end,
                    filtering=filtering,
                )
            )
            start = end + datetime.timedelta(days=1)
    return total


def main() -> None:
    """Run once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds the fake waits per request"
    )
    parser.add_argument("--qps", type=int, default=0, help="the fake's app QPS limit (0: none)")
    parser.add_argument(
        "--rate", type=float, default=10.0, help="the tap's max_requests_per_second"
    )
    args = parser.parse_args()

    with (
        FakeMarketingAPI(SPEC, qps_limit=args.qps or None) as api,
        tempfile.TemporaryDirectory() as tmp,
    ):
        expected_rows = truth_count(api)
        if args.latency:
            api.inject(Fault(kind="slow", delay=args.latency, times=10**9))
        config = {
            "access_token": api.access_token,
            "api_base_url": api.base_url,
            "advertiser_ids": [a["advertiser_id"] for a in api.data.advertisers],
            "start_date": START.isoformat(),
            "end_date": END.isoformat(),
            "max_requests_per_second": args.rate,
            "reports": [REPORT],
        }
        config_path = Path(tmp) / "config.json"
        config_path.write_text(json.dumps(config))
        catalog = json.loads(
            subprocess.run(
                [
                    str(Path(sys.executable).with_name("tap-tiktok")),
                    "--config",
                    str(config_path),
                    "--discover",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for stream in catalog["streams"]:
            for entry in stream["metadata"]:
                if entry["breadcrumb"] == []:
                    entry["metadata"]["selected"] = stream["tap_stream_id"] == REPORT["name"]
        catalog_path = Path(tmp) / "catalog.json"
        catalog_path.write_text(json.dumps(catalog))
        api.clear_log()

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("tap-tiktok")),
                "--config",
                str(config_path),
                "--catalog",
                str(catalog_path),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)

        records = [
            json.loads(line)
            for line in result.stdout.splitlines()
            if '"type":"RECORD"' in line.replace(" ", "")
        ]
        keys = {
            (r["record"]["advertiser_id"], r["record"]["ad_id"], r["record"]["stat_time_day"])
            for r in records
        }
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(
            f"rows emitted      {len(records)} (fake's truth {expected_rows}, unique keys {len(keys)})"
        )
        print(f"rows right        {'all' if len(keys) == len(records) == expected_rows else 'NO'}")
        print(f"requests          {api.count(PATH)} report + {api.count() - api.count(PATH)} other")
        print(
            f"wall              {wall:.2f} s (latency {args.latency:.2f} s, fake QPS limit {args.qps or 'none'})"
        )
        print(
            f"tap CPU           {cpu:.2f} s, {1000 * cpu / max(1, len(records)):.3f} ms per row (includes start-up)"
        )
        print(f"tap peak memory   {after.ru_maxrss / 1024:.0f} MB")
        print(f"peak QPS at fake  {api.peak_qps}")


if __name__ == "__main__":
    main()
