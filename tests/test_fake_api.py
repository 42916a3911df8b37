"""Tests of the fake TikTok Marketing API itself (tests/fake_api)."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from tests.fake_api import DatasetSpec, FakeMarketingAPI, Fault
from tests.fake_api.dataset import Dataset

UTC = timezone.utc
SPEC = DatasetSpec(
    seed=1,
    advertisers=3,
    campaigns_per_advertiser=4,
    adgroups_per_campaign=2,
    ads_per_adgroup=3,
    deleted_fraction=0.25,
    topview_fraction=0.1,
    no_modify_time_ads=1,
)


@pytest.fixture
def api():
    with FakeMarketingAPI(SPEC, qps_limit=None) as fake:
        yield fake


def encode(params: dict[str, Any]) -> dict[str, str]:
    """Lists and objects go into the query string as JSON, as TikTok expects."""
    return {k: json.dumps(v) if isinstance(v, (list, dict)) else str(v) for k, v in params.items()}


def call(api: FakeMarketingAPI, path: str, token: str | None = "current", **params: Any) -> dict:
    headers = {"Access-Token": api.access_token if token == "current" else token} if token else {}
    response = requests.get(
        f"{api.base_url}/{path}", params=encode(params), headers=headers, timeout=5
    )
    assert response.status_code == 200
    return response.json()


def post(api: FakeMarketingAPI, path: str, body: dict) -> dict:
    response = requests.post(f"{api.base_url}/{path}", json=body, timeout=5)
    assert response.status_code == 200
    return response.json()


def all_pages(api: FakeMarketingAPI, path: str, **params: Any) -> list[dict]:
    rows: list[dict] = []
    page = 1
    while True:
        body = call(api, path, page=page, **params)
        assert body["code"] == 0, body
        rows.extend(body["data"]["list"])
        if page >= body["data"]["page_info"]["total_page"]:
            return rows
        page += 1


def first_advertiser(api: FakeMarketingAPI) -> str:
    return api.data.advertisers[0]["advertiser_id"]


def expected(rows: list[dict], advertiser_id: str, keep: Any) -> list[dict]:
    return [r for r in rows if r["advertiser_id"] == advertiser_id and keep(r)]


def is_deleted(row: dict) -> bool:
    return row["secondary_status"].endswith("_DELETE")


# ----- envelope, routing, transport -----


def test_success_envelope_and_headers(api):
    response = requests.get(
        f"{api.base_url}/campaign/get/",
        params={"advertiser_id": first_advertiser(api)},
        headers={"Access-Token": api.access_token},
        timeout=5,
    )
    body = response.json()
    assert set(body) == {"code", "message", "request_id", "data"}
    assert (body["code"], body["message"]) == (0, "OK")
    assert len(body["request_id"]) == 34
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert set(body["data"]) == {"list", "page_info"}


def test_request_ids_are_unique_and_keep_alive_works(api):
    with requests.Session() as session:
        session.headers["Access-Token"] = api.access_token
        ids = {
            session.get(f"{api.base_url}/campaign/get/", params={"advertiser_id": "1"}).json()[
                "request_id"
            ]
            for _ in range(20)
        }
    assert len(ids) == 20


@pytest.mark.parametrize(
    "url_tail",
    ["/open_api/v1.3/campaign/get", "/open_api/v1.3/nope/", "/open_api/v1.2/campaign/get/", "/"],
)
def test_unknown_paths_are_plain_404(api, url_tail):
    root = api.base_url.removesuffix("/open_api/v1.3")
    response = requests.get(root + url_tail, headers={"Access-Token": api.access_token}, timeout=5)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/plain")


def test_api_errors_are_http_200_with_empty_data(api):
    body = call(api, "campaign/get/")  # advertiser_id missing
    assert body["code"] == 40002 and body["data"] == {}
    assert "advertiser_id" in body["message"]


def test_json_body_on_get_is_accepted(api):
    response = requests.get(
        f"{api.base_url}/campaign/get/",
        json={
            "advertiser_id": first_advertiser(api),
            "filtering": {"primary_status": "STATUS_ALL"},
        },
        headers={"Access-Token": api.access_token},
        timeout=5,
    )
    body = response.json()
    assert body["code"] == 0
    assert body["data"]["page_info"]["total_number"] == len(
        expected(api.data.campaigns, first_advertiser(api), lambda r: True)
    )


# ----- auth -----


def test_access_token_codes(api):
    advertiser_id = first_advertiser(api)
    assert call(api, "campaign/get/", token=None, advertiser_id=advertiser_id)["code"] == 40104
    wrong = call(api, "campaign/get/", token="nope-token", advertiser_id=advertiser_id)
    assert wrong["code"] == 40105 and "nope-token" not in wrong["message"]
    old = api.access_token
    api.expire_access_token()
    expired = call(api, "campaign/get/", token=old, advertiser_id=advertiser_id)
    assert expired["code"] == 40102 and old not in expired["message"]


def test_token_in_query_string_is_not_accepted(api):
    body = call(api, "campaign/get/", token=None, advertiser_id="1", access_token=api.access_token)
    assert body["code"] == 40104


# ----- paging -----


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1001}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page": 0}, "page"),
    ],
)
def test_page_param_limits(api, params, named):
    body = call(api, "ad/get/", advertiser_id=first_advertiser(api), **params)
    assert body["code"] == 40002
    assert named in body["message"]


def test_pagination_page_info_and_order(api):
    advertiser_id = first_advertiser(api)
    want = expected(
        api.data.ads,
        advertiser_id,
        lambda r: not is_deleted(r) and api.data.buying_type(r["ad_id"]) != "RESERVATION_TOP_VIEW",
    )
    first = call(api, "ad/get/", advertiser_id=advertiser_id, page_size=5)
    assert first["data"]["page_info"] == {
        "page": 1,
        "page_size": 5,
        "total_number": len(want),
        "total_page": -(-len(want) // 5),
    }
    default = call(api, "ad/get/", advertiser_id=advertiser_id)
    assert default["data"]["page_info"]["page_size"] == 10
    got = all_pages(api, "ad/get/", advertiser_id=advertiser_id, page_size=5)
    assert got == want
    ids = [int(r["ad_id"]) for r in got]
    assert ids == sorted(ids, reverse=True)
    past = call(api, "ad/get/", advertiser_id=advertiser_id, page_size=5, page=99)
    assert past["data"]["list"] == [] and past["data"]["page_info"]["page"] == 99


# ----- filtering -----


@pytest.mark.parametrize(
    ("status", "keep"),
    [
        (None, lambda r: not is_deleted(r)),
        ("STATUS_NOT_DELETE", lambda r: not is_deleted(r)),
        ("STATUS_ALL", lambda r: True),
        ("STATUS_DELETE", is_deleted),
    ],
)
def test_primary_status_filter(api, status, keep):
    filtering = {"buying_types": ["AUCTION", "RESERVATION_RF"]}
    if status:
        filtering["primary_status"] = status
    for advertiser in api.data.advertisers:
        advertiser_id = advertiser["advertiser_id"]
        got = all_pages(
            api, "campaign/get/", advertiser_id=advertiser_id, filtering=filtering, page_size=1000
        )
        want = expected(
            api.data.campaigns,
            advertiser_id,
            lambda r: keep(r) and api.data.buying_type(r["campaign_id"]) != "RESERVATION_TOP_VIEW",
        )
        assert got == want


def test_topview_rules(api):
    topview_ids = {
        r["adgroup_id"]
        for r in api.data.ad_groups
        if api.data.buying_type(r["adgroup_id"]) == "RESERVATION_TOP_VIEW"
    }
    assert topview_ids, "spec should produce TopView ad groups"
    seen_default, seen_topview = set(), set()
    for advertiser in api.data.advertisers:
        advertiser_id = advertiser["advertiser_id"]
        everything = {"primary_status": "STATUS_ALL"}
        default = all_pages(api, "adgroup/get/", advertiser_id=advertiser_id, filtering=everything)
        seen_default |= {r["adgroup_id"] for r in default}
        topview = all_pages(
            api,
            "adgroup/get/",
            advertiser_id=advertiser_id,
            page_size=100,
            filtering={**everything, "buying_types": ["RESERVATION_TOP_VIEW"]},
        )
        seen_topview |= {r["adgroup_id"] for r in topview}
    assert seen_topview == topview_ids
    assert not seen_default & topview_ids
    assert len(seen_default) + len(seen_topview) == len(api.data.ad_groups)

    advertiser_id = first_advertiser(api)
    mixed = call(
        api,
        "campaign/get/",
        advertiser_id=advertiser_id,
        filtering={"buying_types": ["AUCTION", "RESERVATION_TOP_VIEW"]},
    )
    assert mixed["code"] == 40002 and "buying_types" in mixed["message"]
    big_page = call(
        api,
        "adgroup/get/",
        advertiser_id=advertiser_id,
        page_size=101,
        filtering={"buying_types": ["RESERVATION_TOP_VIEW"]},
    )
    assert big_page["code"] == 40002 and "page_size" in big_page["message"]
    campaigns = call(
        api,
        "campaign/get/",
        advertiser_id=advertiser_id,
        page_size=1000,
        filtering={"buying_types": ["RESERVATION_TOP_VIEW"]},
    )
    assert campaigns["code"] == 0


def test_id_filters(api):
    advertiser_id = first_advertiser(api)
    live = expected(api.data.ads, advertiser_id, lambda r: not is_deleted(r))
    wanted = [live[0]["ad_id"], live[-1]["ad_id"]]
    body = call(api, "ad/get/", advertiser_id=advertiser_id, filtering={"ad_ids": wanted})
    assert {r["ad_id"] for r in body["data"]["list"]} == set(wanted)
    too_many = [str(10**17 + i) for i in range(101)]
    body = call(api, "ad/get/", advertiser_id=advertiser_id, filtering={"ad_ids": too_many})
    assert body["code"] == 40002 and "ad_ids" in body["message"]


def test_unknown_filter_key_and_malformed_json(api):
    advertiser_id = first_advertiser(api)
    body = call(api, "campaign/get/", advertiser_id=advertiser_id, filtering={"colour": "red"})
    assert body["code"] == 40002 and "colour" in body["message"]
    body = call(
        api, "campaign/get/", advertiser_id=advertiser_id, filtering={"modified_after": "x"}
    )
    assert body["code"] == 40002  # modified_after only exists on ad/get/
    body = call(api, "campaign/get/", advertiser_id=advertiser_id, filtering='{"primary_status": ')
    assert body["code"] == 40002 and "filtering" in body["message"]
    body = call(api, "campaign/get/", advertiser_id=advertiser_id, fields="[campaign_id")
    assert body["code"] == 40002 and "fields" in body["message"]


def test_modified_after(api):
    advertiser_id = first_advertiser(api)
    rows = expected(
        api.data.ads,
        advertiser_id,
        lambda r: api.data.buying_type(r["ad_id"]) != "RESERVATION_TOP_VIEW",
    )
    times = sorted({r["modify_time"] for r in rows if "modify_time" in r})
    cutoff = times[len(times) // 2]
    got = all_pages(
        api,
        "ad/get/",
        advertiser_id=advertiser_id,
        filtering={"primary_status": "STATUS_ALL", "modified_after": cutoff},
    )
    assert got == [r for r in rows if r.get("modify_time", "9999") > cutoff]
    bad = call(
        api, "ad/get/", advertiser_id=advertiser_id, filtering={"modified_after": "2025-01-01"}
    )
    assert bad["code"] == 40002 and "modified_after" in bad["message"]


def test_ads_without_modify_time_always_returned(api):
    smart_plus = [r for r in api.data.ads if "modify_time" not in r]
    assert len(smart_plus) == SPEC.no_modify_time_ads
    ad = smart_plus[0]
    body = call(
        api,
        "ad/get/",
        advertiser_id=ad["advertiser_id"],
        filtering={
            "primary_status": "STATUS_ALL",
            "buying_types": [api.data.buying_type(ad["ad_id"])],
            "modified_after": "2099-01-01 00:00:00",
        },
    )
    assert [r["ad_id"] for r in body["data"]["list"]] == [ad["ad_id"]]


def test_fields_selection(api):
    advertiser_id = first_advertiser(api)
    body = call(api, "adgroup/get/", advertiser_id=advertiser_id, fields=["adgroup_name", "budget"])
    assert body["data"]["list"]
    assert all(set(r) == {"adgroup_id", "adgroup_name", "budget"} for r in body["data"]["list"])
    bad = call(api, "adgroup/get/", advertiser_id=advertiser_id, fields=["no_such_field"])
    assert bad["code"] == 40002 and "fields" in bad["message"]


def test_unauthorized_advertiser(api):
    advertiser_id = first_advertiser(api)
    api.data.authorized_advertiser_ids.remove(advertiser_id)
    assert call(api, "campaign/get/", advertiser_id=advertiser_id)["code"] == 40001
    info = call(api, "advertiser/info/", advertiser_ids=[advertiser_id])
    assert info["code"] == 40001
    listed = call(api, "oauth2/advertiser/get/", app_id=api.app_id, secret=api.secret)
    assert advertiser_id not in {r["advertiser_id"] for r in listed["data"]["list"]}


# ----- advertiser/info -----


def test_advertiser_info(api):
    ids = [a["advertiser_id"] for a in api.data.advertisers]
    body = call(api, "advertiser/info/", advertiser_ids=ids)
    assert body["code"] == 0 and body["data"]["list"] == api.data.advertisers
    assert "page_info" not in body["data"]
    some = call(api, "advertiser/info/", advertiser_ids=ids[:1], fields=["timezone"])
    assert some["data"]["list"] == [{"advertiser_id": ids[0], "timezone": "America/Los_Angeles"}]
    assert call(api, "advertiser/info/")["code"] == 40002
    many = call(api, "advertiser/info/", advertiser_ids=[str(10**17 + i) for i in range(101)])
    assert many["code"] == 40011


# ----- data -----


def test_dataset_is_deterministic_and_shaped():
    one, two = Dataset(SPEC), Dataset(SPEC)
    assert one.advertisers == two.advertisers and one.ads == two.ads
    assert Dataset(DatasetSpec(seed=2)).campaigns != one.campaigns
    rows = one.campaigns + one.ad_groups + one.ads
    all_ids = [a["advertiser_id"] for a in one.advertisers] + [
        r[k] for r in rows for k in ("campaign_id", "adgroup_id", "ad_id") if k in r
    ]
    assert all(isinstance(i, str) and i.isdigit() and 16 <= len(i) <= 19 for i in all_ids)
    assert any(int(i) > 2**62 for i in all_ids)
    for row in rows:
        if "modify_time" in row:
            assert row["create_time"] <= row["modify_time"]
            assert "2024" <= row["modify_time"][:4] <= "2026"
    modify_times = [r["modify_time"] for r in one.campaigns]
    assert len(set(modify_times)) < len(modify_times), "ties on modify_time expected"
    assert sum(is_deleted(r) for r in one.campaigns) == 3  # 25 % of 12
    assert {a["timezone"] for a in one.advertisers} == {
        "America/Los_Angeles",
        "Asia/Tokyo",
        "Europe/Berlin",
    }
    assert all(isinstance(a["create_time"], int) for a in one.advertisers)


def test_modify_and_delete(api):
    campaign = next(r for r in api.data.campaigns if not is_deleted(r))
    at = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
    api.modify("campaign", campaign["campaign_id"], at=at, campaign_name="Renamed")
    after = next(r for r in api.data.campaigns if r["campaign_id"] == campaign["campaign_id"])
    assert (after["campaign_name"], after["modify_time"]) == ("Renamed", "2026-06-01 12:00:00")
    children = [r for r in api.data.ad_groups if r["campaign_id"] == campaign["campaign_id"]]
    assert all(r["campaign_name"] == "Renamed" for r in children)
    ad = next(r for r in api.data.ads if not is_deleted(r))
    api.delete("ad", ad["ad_id"], at=at)
    body = call(
        api, "ad/get/", advertiser_id=ad["advertiser_id"], filtering={"ad_ids": [ad["ad_id"]]}
    )
    assert body["data"]["list"] == []
    body = call(
        api,
        "ad/get/",
        advertiser_id=ad["advertiser_id"],
        filtering={"ad_ids": [ad["ad_id"]], "primary_status": "STATUS_DELETE"},
    )
    assert body["data"]["list"][0]["secondary_status"] == "AD_STATUS_DELETE"


# ----- oauth -----


def test_oauth_advertiser_get(api):
    body = call(api, "oauth2/advertiser/get/", app_id=api.app_id, secret=api.secret)
    assert body["data"]["list"] == [
        {"advertiser_id": a["advertiser_id"], "advertiser_name": a["name"]}
        for a in api.data.advertisers
    ]
    assert "page_info" not in body["data"]
    wrong = call(api, "oauth2/advertiser/get/", app_id=api.app_id, secret="wrong")
    assert wrong["code"] == 40101 and api.secret not in wrong["message"]


def test_auth_code_exchange(api):
    code = api.issue_auth_code()
    body = post(
        api, "oauth2/access_token/", {"app_id": api.app_id, "secret": api.secret, "auth_code": code}
    )
    assert body["code"] == 0
    token = body["data"]["access_token"]
    assert body["data"]["advertiser_ids"] == api.data.authorized_advertiser_ids
    assert isinstance(body["data"]["scope"], list)
    assert api.access_token == token
    assert call(api, "campaign/get/", token=token, advertiser_id=first_advertiser(api))["code"] == 0
    again = post(
        api, "oauth2/access_token/", {"app_id": api.app_id, "secret": api.secret, "auth_code": code}
    )
    assert again["code"] == 40110
    wrong = post(
        api, "oauth2/access_token/", {"app_id": api.app_id, "secret": "x", "auth_code": "y"}
    )
    assert wrong["code"] == 40101


def test_refresh_token_flow(api):
    old = api.access_token
    api.expire_access_token()
    base = {"app_id": api.app_id, "secret": api.secret}
    assert post(api, "oauth2/refresh_token/", {**base, "refresh_token": "bad"})["code"] == 40107
    body = post(
        api,
        "oauth2/refresh_token/",
        {**base, "refresh_token": api.refresh_token, "grant_type": "refresh_token"},
    )
    assert body["code"] == 0
    assert set(body["data"]) == {
        "access_token",
        "refresh_token",
        "expires_in",
        "refresh_token_expires_in",
    }
    new = body["data"]["access_token"]
    assert new != old and api.access_token == new
    advertiser_id = first_advertiser(api)
    assert call(api, "campaign/get/", token=new, advertiser_id=advertiser_id)["code"] == 0
    assert call(api, "campaign/get/", token=old, advertiser_id=advertiser_id)["code"] == 40102
    # A refresh also retires a token that was still valid.
    again = post(api, "oauth2/refresh_token/", {**base, "refresh_token": api.refresh_token})
    assert call(api, "campaign/get/", token=new, advertiser_id=advertiser_id)["code"] == 40102
    assert (
        call(
            api, "campaign/get/", token=again["data"]["access_token"], advertiser_id=advertiser_id
        )["code"]
        == 0
    )


def test_token_endpoints_are_post_only(api):
    response = requests.get(f"{api.base_url}/oauth2/refresh_token/", timeout=5)
    assert response.status_code == 405


# ----- QPS -----


def test_qps_limit():
    with FakeMarketingAPI(SPEC, qps_limit=5) as api:
        advertiser_id = first_advertiser(api)
        with requests.Session() as session:
            session.headers["Access-Token"] = api.access_token
            url = f"{api.base_url}/campaign/get/"
            codes = [
                session.get(url, params={"advertiser_id": advertiser_id}).json() for _ in range(12)
            ]
            throttled = [b for b in codes if b["code"] == 40100]
            assert len(throttled) >= 7 - 1  # allow one window roll-over on a slow machine
            assert f"App [{api.app_id}]" in throttled[0]["message"]
            assert throttled[0]["data"] == {}
            assert api.peak_qps <= 5
            assert api.count("campaign/get/") == 12
            time.sleep(1.05)
            assert session.get(url, params={"advertiser_id": advertiser_id}).json()["code"] == 0


def test_qps_throttled_requests_do_not_count():
    with FakeMarketingAPI(SPEC, qps_limit=3) as api:
        url = f"{api.base_url}/campaign/get/"
        with requests.Session() as session:
            start = time.monotonic()
            answers = []
            while time.monotonic() - start < 1.5:
                answers.append((time.monotonic() - start, session.get(url).json()["code"]))
                time.sleep(0.02)
        accepted = [t for t, code in answers if code != 40100]
        # Throttled calls kept arriving, yet the window reopened after the first accepted second.
        assert any(t > 1.0 for t in accepted)
        assert api.peak_qps == 3


# ----- faults -----


def test_fault_http(api):
    api.inject(Fault(kind="http", status=502))
    response = requests.get(f"{api.base_url}/campaign/get/", timeout=5)
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html>" in response.text
    assert api.requests[-1].fault == "http" and api.requests[-1].http_status == 502


def test_fault_code_times_and_path(api):
    api.inject(Fault(kind="code", code=50000, times=2, path="campaign/get/"))
    advertiser_id = first_advertiser(api)
    assert call(api, "adgroup/get/", advertiser_id=advertiser_id)["code"] == 0
    first = call(api, "campaign/get/", advertiser_id=advertiser_id)
    assert (first["code"], first["data"]) == (50000, {})
    assert call(api, "campaign/get/", advertiser_id=advertiser_id)["code"] == 50000
    assert call(api, "campaign/get/", advertiser_id=advertiser_id)["code"] == 0
    assert [r.fault for r in api.requests] == [None, "code", "code", None]


def test_fault_slow(api):
    api.inject(Fault(kind="slow", delay=0.3))
    start = time.monotonic()
    body = call(api, "campaign/get/", advertiser_id=first_advertiser(api))
    assert time.monotonic() - start >= 0.3
    assert body["code"] == 0 and api.requests[-1].fault == "slow"


def test_fault_drop(api):
    api.inject(Fault(kind="drop"))
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{api.base_url}/campaign/get/", timeout=5)
    assert api.requests[-1].fault == "drop" and api.requests[-1].http_status is None
    assert call(api, "campaign/get/", advertiser_id=first_advertiser(api))["code"] == 0


def test_fault_truncated(api):
    api.inject(Fault(kind="truncated"))
    response = requests.get(f"{api.base_url}/campaign/get/", timeout=5)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content)
    with pytest.raises(ValueError):
        response.json()


def test_fault_short_body(api):
    api.inject(Fault(kind="short_body"))
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(f"{api.base_url}/campaign/get/", timeout=5)
    assert api.requests[-1].fault == "short_body"
    assert call(api, "campaign/get/", advertiser_id=first_advertiser(api))["code"] == 0


def test_faulted_requests_skip_normal_handling(api):
    api.inject(Fault(kind="code", code=60001))
    body = call(api, "campaign/get/", token=None)  # would be 40104 without the fault
    assert body["code"] == 60001


# ----- request log, concurrency, lifecycle -----


def test_request_log(api):
    advertiser_id = first_advertiser(api)
    call(
        api,
        "campaign/get/",
        advertiser_id=advertiser_id,
        filtering={"primary_status": "STATUS_ALL"},
    )
    call(api, "campaign/get/", token="bad", advertiser_id=advertiser_id)
    requests.get(f"{api.base_url}/campaign/get", timeout=5)
    entry = api.requests[0]
    assert entry.path == "campaign/get/" and entry.method == "GET"
    assert entry.params["filtering"] == {"primary_status": "STATUS_ALL"}
    assert entry.params["advertiser_id"] == advertiser_id
    assert entry.headers["Access-Token"] == api.access_token
    assert (entry.code, entry.http_status, entry.fault) == (0, 200, None)
    assert api.requests[1].code == 40105
    assert api.requests[2].http_status == 404 and api.requests[2].code is None
    assert api.count() == 3 and api.count("campaign/get/") == 2
    api.clear_log()
    assert api.count() == 0 and api.requests == []


def test_concurrent_requests(api):
    advertiser_id = first_advertiser(api)
    results: list[int] = []

    def worker() -> None:
        with requests.Session() as session:
            session.headers["Access-Token"] = api.access_token
            for _ in range(5):
                url = f"{api.base_url}/ad/get/"
                results.append(
                    session.get(url, params={"advertiser_id": advertiser_id}).json()["code"]
                )

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [0] * 40
    assert api.count() == 40 and api.errors == []


def test_stop_closes_keep_alive_connections():
    api = FakeMarketingAPI(SPEC, qps_limit=None).start()
    session = requests.Session()
    session.get(f"{api.base_url}/campaign/get/", timeout=5)  # leaves a pooled keep-alive socket
    base_url = api.base_url
    start = time.monotonic()
    api.stop()
    assert time.monotonic() - start < 2
    with pytest.raises(requests.ConnectionError):
        session.get(f"{base_url}/campaign/get/", timeout=2)
    session.close()


def test_secondary_status_and_null_field_exclusion(api):
    deleted = next(r for r in api.data.campaigns if is_deleted(r))
    body = call(
        api,
        "campaign/get/",
        advertiser_id=deleted["advertiser_id"],
        filtering={
            "secondary_status": "CAMPAIGN_STATUS_DELETE",
            "buying_types": [api.data.buying_type(deleted["campaign_id"])],
        },
    )
    assert deleted["campaign_id"] in {r["campaign_id"] for r in body["data"]["list"]}
    assert all(is_deleted(r) for r in body["data"]["list"])
    with_null = next(r for r in api.data.campaigns if r["deep_bid_type"] is None)
    body = call(
        api,
        "campaign/get/",
        advertiser_id=with_null["advertiser_id"],
        exclude_field_types_in_response=["NULL_FIELD"],
        filtering={
            "campaign_ids": [with_null["campaign_id"]],
            "primary_status": "STATUS_ALL",
            "buying_types": [api.data.buying_type(with_null["campaign_id"])],
        },
    )
    assert "deep_bid_type" not in body["data"]["list"][0]
