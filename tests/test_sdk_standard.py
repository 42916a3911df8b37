"""The Singer SDK's standard tap tests, run against the fake API."""

from __future__ import annotations

import atexit

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_tiktok_reporting.tap import TapTikTok
from tests.fake_api import DatasetSpec, FakeMarketingAPI

# Schemas list every field TikTok documents; the fake's rows carry fewer, which the SDK only warns about.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Fields in transformed catalog but not in records"),
    pytest.mark.filterwarnings("ignore:No records were available to test"),
]

# The SDK builds its test class at import time, so the fake must already be serving.
_API = FakeMarketingAPI(
    DatasetSpec(
        seed=5,
        advertisers=2,
        campaigns_per_advertiser=2,
        adgroups_per_campaign=1,
        ads_per_adgroup=2,
    ),
    qps_limit=None,
).start()
atexit.register(_API.stop)

CONFIG = {
    "access_token": _API.access_token,
    "app_id": _API.app_id,
    "secret": _API.secret,
    "api_base_url": _API.base_url,
    "start_date": "2025-05-01",
    "end_date": "2025-05-02",
    "max_requests_per_second": 500,
    "reports": [
        {
            "name": "custom_country_daily",
            "data_level": "CAMPAIGN",
            "dimensions": ["country_code"],
            "metrics": ["spend", "clicks"],
        }
    ],
}


def every_stream_selected() -> dict:
    """The discovered catalog with every stream selected, heavy reports included."""
    catalog = TapTikTok(config=CONFIG, validate_config=False).catalog_dict
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = True
    return catalog


TestTapTikTok = get_tap_test_class(
    TapTikTok,
    config=CONFIG,
    catalog=every_stream_selected(),
    suite_config=SuiteConfig(max_records_limit=200),
)
