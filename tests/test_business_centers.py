"""Business Centers: `business_center_ids` and `discover_business_centers`, run as users run them.

Every run is the real `tap-tiktok` command against the fake API, whose Business Centers hold
advertisers that `/oauth2/advertiser/get/` does not list but the token may read.
"""

from __future__ import annotations

import decimal
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SyncOutput, catalog_selecting, records_by_id, run_cli, tap_config
from tests.fake_api import BusinessCenterSpec, DatasetSpec, FakeMarketingAPI

REPORT = "campaign_report_daily"
SPEC = DatasetSpec(
    seed=23,
    advertisers=3,  # authorized to the app
    campaigns_per_advertiser=2,
    adgroups_per_campaign=1,
    ads_per_adgroup=1,
    business_centers=(
        # Two advertisers only it reaches, and the first authorized one as a partner.
        BusinessCenterSpec(own_advertisers=2, authorized_advertisers=1),
        BusinessCenterSpec(own_advertisers=1),
    ),
)
UNKNOWN_BC = "7999999999999999999"


@pytest.fixture
def api():
    with FakeMarketingAPI(SPEC, qps_limit=None) as fake:
        yield fake


def sync(
    tmp_path: Path, api: FakeMarketingAPI, streams: list[str], **settings: Any
) -> tuple[subprocess.CompletedProcess[str], SyncOutput]:
    """Run `tap-tiktok` with `settings` over tap_config's, selecting `streams`."""
    config = tap_config(api, end_date="2025-01-10", **settings)
    catalog = catalog_selecting(tap_config(api), streams)
    result = run_cli(tmp_path, config, catalog=catalog)
    messages = [
        json.loads(line, parse_float=decimal.Decimal)
        for line in result.stdout.splitlines()
        if line.strip()
    ]
    return result, SyncOutput(messages=messages, log=result.stderr)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "| ERROR" in line]


def authorized(api: FakeMarketingAPI) -> list[str]:
    return list(api.data.authorized_advertiser_ids)


def bc_only(api: FakeMarketingAPI) -> list[str]:
    """Advertisers no source but a Business Center reaches."""
    return [
        a["advertiser_id"]
        for a in api.data.advertisers
        if a["advertiser_id"] not in authorized(api)
    ]


def test_business_center_ids_extract_every_advertiser_of_those_bcs(api, tmp_path):
    first, _second = api.data.business_centers
    result, out = sync(
        tmp_path,
        api,
        ["advertisers", "campaigns", REPORT],
        advertiser_ids=None,
        business_center_ids=[first.bc_id],
    )
    assert result.returncode == 0, result.stderr

    advertisers = records_by_id(out.records["advertisers"], "advertiser_id")
    assert list(advertisers) == list(first.advertiser_ids)
    assert {r["business_center_id"] for r in advertisers.values()} == {first.bc_id}
    # A listed BC is taken as it is: the authorized advertisers are not all added.
    assert api.count("oauth2/advertiser/get/") == 0
    # The BC-only advertisers are extracted like any other: entities and report rows.
    reached_only_by_bc = set(first.advertiser_ids) - set(authorized(api))
    assert len(reached_only_by_bc) == 2
    assert reached_only_by_bc <= {r["advertiser_id"] for r in out.records["campaigns"]}
    assert reached_only_by_bc <= {r["advertiser_id"] for r in out.records[REPORT]}
    assert {r["advertiser_id"] for r in out.records["campaigns"]} == set(first.advertiser_ids)
    requests = [r for r in api.requests if r.path == "bc/asset/get/"]
    assert [(r.params["bc_id"], r.params["asset_type"]) for r in requests] == [
        (first.bc_id, "ADVERTISER")
    ]


def test_discover_business_centers_adds_every_bcs_advertisers_to_the_authorized(api, tmp_path):
    first, second = api.data.business_centers
    result, out = sync(
        tmp_path, api, ["advertisers"], advertiser_ids=None, discover_business_centers=True
    )
    assert result.returncode == 0, result.stderr

    advertisers = records_by_id(out.records["advertisers"], "advertiser_id")
    assert set(advertisers) == {a["advertiser_id"] for a in api.data.advertisers}
    assert len(advertisers) == 3 + 2 + 1
    expected_bc = {a: first.bc_id for a in first.advertiser_ids}
    expected_bc.update({a: second.bc_id for a in second.advertiser_ids})
    assert {a: r["business_center_id"] for a, r in advertisers.items()} == {
        a: expected_bc.get(a) for a in advertisers
    }
    # The two authorized advertisers no BC holds came from /oauth2/advertiser/get/.
    assert [a for a, r in advertisers.items() if r["business_center_id"] is None] == [
        a for a in authorized(api) if a not in first.advertiser_ids
    ]
    assert api.count("bc/get/") == 1
    assert api.count("oauth2/advertiser/get/") == 1
    assert {r.params["bc_id"] for r in api.requests if r.path == "bc/asset/get/"} == {
        first.bc_id,
        second.bc_id,
    }


def test_listed_bcs_come_before_discovered_ones_and_the_authorized_last(api, tmp_path):
    first, second = api.data.business_centers
    result, out = sync(
        tmp_path,
        api,
        ["advertisers"],
        advertiser_ids=None,
        business_center_ids=[second.bc_id],
        discover_business_centers=True,
    )
    assert result.returncode == 0, result.stderr
    # Listed BCs are taken as they are: the authorized advertisers are not added.
    want = [*second.advertiser_ids, *first.advertiser_ids]
    assert [r["advertiser_id"] for r in out.records["advertisers"]] == want
    assert api.count("oauth2/advertiser/get/") == 0


def test_discovery_without_app_credentials_takes_the_bcs_advertisers(api, tmp_path):
    result, out = sync(
        tmp_path,
        api,
        ["advertisers"],
        advertiser_ids=None,
        app_id=None,
        secret=None,
        discover_business_centers=True,
    )
    assert result.returncode == 0, result.stderr
    held = {a for bc in api.data.business_centers for a in bc.advertiser_ids}
    assert {r["advertiser_id"] for r in out.records["advertisers"]} == held
    assert api.count("oauth2/advertiser/get/") == 0


def test_advertiser_ids_and_business_centers_are_united_each_advertiser_once(api, tmp_path):
    first, second = api.data.business_centers
    also_in_first = sorted(set(first.advertiser_ids) - set(authorized(api)))[0]
    listed = [authorized(api)[2], also_in_first]
    result, out = sync(
        tmp_path,
        api,
        ["advertisers", "campaigns"],
        advertiser_ids=listed,
        business_center_ids=[second.bc_id, first.bc_id, int(second.bc_id)],
    )
    assert result.returncode == 0, result.stderr

    # Listed advertisers first, then each BC's (in the order the BCs are listed), each once.
    want = list(dict.fromkeys([*listed, *second.advertiser_ids, *first.advertiser_ids]))
    advertisers = records_by_id(out.records["advertisers"], "advertiser_id")
    assert list(advertisers) == want
    assert advertisers[authorized(api)[2]]["business_center_id"] is None
    # Listed by hand and held by a BC: the record still names the BC.
    assert advertisers[also_in_first]["business_center_id"] == first.bc_id
    campaigns = records_by_id(out.records["campaigns"], "campaign_id")
    assert list(dict.fromkeys(r["advertiser_id"] for r in campaigns.values())) == want
    assert api.count("bc/asset/get/") == 2


def test_bc_advertisers_are_paged_50_at_a_time(tmp_path):
    spec = DatasetSpec(
        seed=3,
        advertisers=1,
        campaigns_per_advertiser=0,
        business_centers=(BusinessCenterSpec(own_advertisers=55),),
    )
    with FakeMarketingAPI(spec, qps_limit=None) as api:
        (big,) = api.data.business_centers
        result, out = sync(
            tmp_path, api, ["advertisers"], advertiser_ids=None, business_center_ids=[big.bc_id]
        )
        assert result.returncode == 0, result.stderr
        advertisers = records_by_id(out.records["advertisers"], "advertiser_id")
        assert list(advertisers) == list(big.advertiser_ids)
        assert len(advertisers) == 55
        pages = [r for r in api.requests if r.path == "bc/asset/get/"]
        assert sorted((r.params["page"], r.params["page_size"]) for r in pages) == [
            ("1", "50"),
            ("2", "50"),
        ]
        assert all(r.code == 0 for r in pages)


def test_the_advertisers_schema_has_the_business_center_field(api, tmp_path):
    result = run_cli(tmp_path, tap_config(api), "--discover")
    assert result.returncode == 0, result.stderr
    streams = {s["tap_stream_id"]: s for s in json.loads(result.stdout)["streams"]}
    field = streams["advertisers"]["schema"]["properties"]["business_center_id"]
    assert "string" in field["type"] and "null" in field["type"]
    assert api.count() == 0


def test_a_business_center_the_token_cannot_read_stops_the_run_naming_it(api, tmp_path):
    result, out = sync(
        tmp_path,
        api,
        ["advertisers", "campaigns"],
        advertiser_ids=None,
        business_center_ids=[api.data.business_centers[0].bc_id, UNKNOWN_BC],
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = error_lines(result.stderr)
    assert f"bc/asset/get/ (Business Center {UNKNOWN_BC})" in line
    assert "code 40001" in line
    assert "check business_center_ids" in line
    assert not out.records
    assert api.count("advertiser/info/") == 0


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (["agency-1"], "business_center_ids[0] 'agency-1'"),
        (["7000000000000000001", "12 34"], "business_center_ids[1] '12 34'"),
    ],
)
def test_bad_business_center_ids_are_refused_in_one_line_before_any_request(
    api, tmp_path, value, shown
):
    result, _ = sync(tmp_path, api, ["advertisers"], business_center_ids=value)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = error_lines(result.stderr)
    assert shown in line
    assert "is not a Business Center id" in line
    assert api.count() == 0


def test_without_any_source_of_advertisers_the_refusal_names_the_bc_settings(api, tmp_path):
    result, _ = sync(tmp_path, api, ["advertisers"], advertiser_ids=None, app_id=None)
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert "set app_id" in line
    assert "business_center_ids" in line and "discover_business_centers" in line
    assert api.count() == 0


def test_discover_makes_no_request_with_business_center_settings(api, tmp_path):
    config = tap_config(
        api,
        advertiser_ids=None,
        business_center_ids=[api.data.business_centers[0].bc_id],
        discover_business_centers=True,
    )
    result = run_cli(tmp_path, config, "--discover")
    assert result.returncode == 0, result.stderr
    assert api.count() == 0
