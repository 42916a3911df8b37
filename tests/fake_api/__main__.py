"""Run the fake TikTok Marketing API standalone until Ctrl-C.

Usage (from the repository root)::

    python -m tests.fake_api --port 8080 --seed 1 --advertisers 3 \
        [--campaigns 4] [--adgroups 2] [--ads 3] [--qps 10] [--bc-advertisers 0]

--campaigns is per advertiser, --adgroups per campaign, --ads per ad group; --qps 0 disables
the QPS limit; --port 0 takes a free port; --bc-advertisers N adds a Business Center holding N
advertisers that only it reaches. It prints the base URL, app_id, secret, access token,
advertiser ids, Business Center ids and a one-time auth_code (fake credentials, safe to print).

To try `tap-tiktok-auth exchange`, pass it the printed auth_code. For more codes, open the
printed authorize_url (or `curl -sI` it): like TikTok's authorization page once the advertiser
approves, it redirects to its redirect_uri with a fresh auth_code (and the state) in the query.
"""

from __future__ import annotations

import argparse
import threading
from urllib.parse import urlencode

from .dataset import BusinessCenterSpec, DatasetSpec
from .oauth import AUTHORIZATION_PAGE
from .server import FakeMarketingAPI

# Where the printed authorize_url sends the browser; any http(s) URL works.
REDIRECT_URI = "https://example.com/callback"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    description, _, epilog = __doc__.partition("To try")
    parser = argparse.ArgumentParser(
        prog="python -m tests.fake_api",
        description=description.split("\n")[0],
        epilog="To try" + epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0: any free port")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--advertisers", type=int, default=3)
    parser.add_argument("--campaigns", type=int, default=4, help="campaigns per advertiser")
    parser.add_argument("--adgroups", type=int, default=2, help="ad groups per campaign")
    parser.add_argument("--ads", type=int, default=3, help="ads per ad group")
    parser.add_argument("--qps", type=int, default=10, help="app QPS limit; 0 disables it")
    parser.add_argument(
        "--bc-advertisers", type=int, default=0, help="advertisers only a Business Center reaches"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Start the server, print how to reach it, and block until interrupted."""
    args = parse_args(argv)
    spec = DatasetSpec(
        seed=args.seed,
        advertisers=args.advertisers,
        campaigns_per_advertiser=args.campaigns,
        adgroups_per_campaign=args.adgroups,
        ads_per_adgroup=args.ads,
        business_centers=(
            (BusinessCenterSpec(own_advertisers=args.bc_advertisers),)
            if args.bc_advertisers
            else ()
        ),
    )
    api = FakeMarketingAPI(spec, qps_limit=args.qps or None, host=args.host, port=args.port)
    with api:
        print(f"base_url:       {api.base_url}")
        print(f"app_id:         {api.app_id}")
        print(f"secret:         {api.secret}")
        print(f"access_token:   {api.access_token}")
        print(f"refresh_token:  {api.refresh_token}")
        print(f"advertiser_ids: {', '.join(api.data.authorized_advertiser_ids)}")
        if api.data.business_centers:
            print(f"bc_ids:         {', '.join(bc.bc_id for bc in api.data.business_centers)}")
        print(f"auth_code:      {api.issue_auth_code()}")
        query = urlencode(
            {"app_id": api.app_id, "redirect_uri": REDIRECT_URI, "state": "try-the-fake"}
        )
        origin = api.base_url.split("/open_api/")[0]
        print(f"authorize_url:  {origin}{AUTHORIZATION_PAGE}?{query}")
        print("Ctrl-C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping")


if __name__ == "__main__":
    main()
