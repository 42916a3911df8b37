"""A fake TikTok Marketing API (v1.3) for testing tap-tiktok; standard library only."""

from .dataset import BusinessCenterSpec, Dataset, DatasetSpec
from .errors import ApiError
from .faults import Fault
from .routes import Call, Route
from .server import FakeMarketingAPI, RequestLog

__all__ = [
    "ApiError",
    "BusinessCenterSpec",
    "Call",
    "Dataset",
    "DatasetSpec",
    "FakeMarketingAPI",
    "Fault",
    "RequestLog",
    "Route",
]
