"""The tap's settings (its public interface) and values derived from them."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

PRODUCTION_API_ROOT = "https://business-api.tiktok.com/open_api/v1.3"
SANDBOX_API_ROOT = "https://sandbox-ads.tiktok.com/open_api/v1.3"

DEFAULT_PAGE_SIZE = 1000
DEFAULT_REQUESTS_PER_SECOND = 10.0
#: `/gmv_max/report/get/`'s own QPS tier (Basic).
DEFAULT_GMV_MAX_REPORT_REQUESTS_PER_SECOND = 8.0
DEFAULT_REQUESTS_IN_FLIGHT = 10
DEFAULT_REQUEST_TIMEOUT = 60
DEFAULT_MAX_RETRY_SECONDS = 300
DEFAULT_LOOKBACK_DAYS = 7
# TikTok's synchronous report takes up to 5 advertisers (`advertiser_ids`).
MAX_ADVERTISERS_PER_REPORT_REQUEST = 5
MAX_REPORT_WINDOW_DAYS = 30

_REPORT_FILTER = th.ObjectType(
    th.Property("field_name", th.StringType, description="e.g. `campaign_ids`, `ad_status`"),
    th.Property("filter_type", th.StringType, description="e.g. `IN`, `MATCH`, `GREATER_THAN`"),
    th.Property(
        "filter_value",
        th.CustomType({"type": ["array", "string", "number"]}),
        description="A plain list (or one value); the tap encodes it as TikTok wants.",
    ),
    additional_properties=True,
)
_REPORT = th.ObjectType(
    th.Property("name", th.StringType, description="Stream name (lowercase, digits, `_`)."),
    th.Property("report_type", th.StringType, description="`BASIC` (default) or `AUDIENCE`."),
    th.Property(
        "data_level",
        th.StringType,
        description="`ADVERTISER`, `CAMPAIGN`, `ADGROUP` or `AD` (`AUCTION_` prefix accepted).",
    ),
    th.Property(
        "dimensions",
        th.ArrayType(th.StringType),
        description="Extra breakdowns; the level's id dimension is implied.",
    ),
    th.Property(
        "aggregation",
        th.StringType,
        description="`DAY` (default), `HOUR` or `LIFETIME`: sets `stat_time_day`, "
        "`stat_time_hour` or `query_lifetime`.",
    ),
    th.Property("metrics", th.ArrayType(th.StringType), description="Metric names."),
    th.Property("filters", th.ArrayType(_REPORT_FILTER), description="TikTok report filters."),
    th.Property(
        "lookback_days",
        th.IntegerType,
        description="This report's lookback, instead of the `lookback_days` setting.",
    ),
    additional_properties=True,
)

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "access_token",
        th.StringType,
        secret=True,
        title="Access token",
        description="Marketing API access token, sent as the `Access-Token` header. May be "
        "left out when `refresh_token`, `app_id` and `secret` are set.",
    ),
    th.Property(
        "app_id",
        th.StringType,
        title="App ID",
        description="The developer app's id. Needed to discover advertisers (when "
        "`advertiser_ids` and `business_center_ids` are empty) and to refresh tokens.",
    ),
    th.Property(
        "secret",
        th.StringType,
        secret=True,
        title="App secret",
        description="The developer app's secret. Needed with `app_id`.",
    ),
    th.Property(
        "refresh_token",
        th.StringType,
        secret=True,
        title="Refresh token",
        description="For apps whose access tokens expire: the tap obtains a fresh access token "
        "at start and again whenever TikTok answers that the token expired (code 40102), and "
        "retries the refused requests.",
    ),
    th.Property(
        "advertiser_ids",
        # Integers too: YAML and env vars turn unquoted ids into numbers; both mean the same id.
        th.ArrayType(th.CustomType({"type": ["string", "integer"]})),
        title="Advertiser IDs",
        description="Advertisers to extract. When both this and `business_center_ids` are "
        "empty, every advertiser the token is authorized for is discovered through "
        "`/oauth2/advertiser/get/` (needs `app_id` and `secret`; not available in the sandbox).",
    ),
    th.Property(
        "business_center_ids",
        # Integers too, as for advertiser_ids: YAML and env vars turn unquoted ids into numbers.
        th.ArrayType(th.CustomType({"type": ["string", "integer"]})),
        title="Business Center IDs",
        description="Business Centers whose advertisers to extract (every `ADVERTISER` asset "
        "of each, from `/bc/asset/get/`), added to `advertiser_ids`.",
    ),
    th.Property(
        "discover_business_centers",
        th.BooleanType,
        default=False,
        title="Discover Business Centers",
        description="Also extract the advertisers of every Business Center the token's user "
        "belongs to (`/bc/get/`), added to the other advertisers.",
    ),
    th.Property(
        "start_date",
        th.DateType,
        required=True,
        title="Start date",
        description="First report date (in each advertiser's time zone). Entity streams "
        "(advertisers, campaigns, ad groups, ads) are always complete and ignore it.",
    ),
    th.Property(
        "end_date",
        th.DateType,
        title="End date",
        description="Last report date, inclusive. Default: today in each advertiser's time zone.",
    ),
    th.Property(
        "include_deleted",
        th.BooleanType,
        default=True,
        title="Include deleted objects",
        description="Also extract deleted campaigns, ad groups and ads (`primary_status: "
        "STATUS_ALL`) and deleted GMV Max campaigns, and the report rows of deleted objects.",
    ),
    th.Property(
        "sandbox",
        th.BooleanType,
        default=False,
        title="Sandbox",
        description=f"Use TikTok's sandbox host ({SANDBOX_API_ROOT}).",
    ),
    th.Property(
        "api_base_url",
        th.StringType,
        title="API base URL",
        description="Override the API root, e.g. `http://127.0.0.1:8080/open_api/v1.3`, for "
        "proxies and tests. With or without a trailing slash. Wins over `sandbox`.",
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=1, maximum=1000),
        default=DEFAULT_PAGE_SIZE,
        title="Page size",
        description="Rows per request (1 to 1000).",
    ),
    th.Property(
        "reports",
        th.ArrayType(_REPORT),
        title="Custom reports",
        description="Your own report streams: each entry has `name`, `report_type`, "
        "`data_level`, `dimensions`, `aggregation`, `metrics`, optional `filters` and "
        "`lookback_days`. Checked before any request; every problem is reported at once.",
    ),
    th.Property(
        "lookback_days",
        th.IntegerType(minimum=0, maximum=365),
        default=DEFAULT_LOOKBACK_DAYS,
        title="Lookback days",
        description="Each run re-reads report dates from the bookmark less this many days, "
        "because TikTok keeps attributing conversions to past days.",
    ),
    th.Property(
        "report_window_days",
        th.IntegerType(minimum=1, maximum=MAX_REPORT_WINDOW_DAYS),
        default=MAX_REPORT_WINDOW_DAYS,
        title="Report window days",
        description="Dates per daily report request (TikTok's maximum is 30). The tap halves a "
        "window by itself when TikTok answers 40067 (query too large).",
    ),
    th.Property(
        "max_requests_per_second",
        th.NumberType(exclusive_minimum=0),
        default=DEFAULT_REQUESTS_PER_SECOND,
        title="Max requests per second",
        description="Client-side limit shared by every request of the run, to stay under the "
        "app's QPS tier (Basic 10, Advanced 20, Premium 30, Ultimate 50). With "
        "`rate_limit_store`, it is the app's total across every job sharing the store and "
        "`rate_limit_key`; without, lower it when several jobs share one app.",
    ),
    th.Property(
        "gmv_max_requests_per_second",
        th.NumberType(exclusive_minimum=0),
        default=DEFAULT_GMV_MAX_REPORT_REQUESTS_PER_SECOND,
        title="GMV Max report requests per second",
        description="Client-side limit of `/gmv_max/report/get/`, which has its own, lower QPS "
        "tier (Basic 8, Advanced 12, Premium and Ultimate 20), on top of "
        "`max_requests_per_second`. With `rate_limit_store`, shared like it, under the key "
        "`<rate_limit_key>:gmv_max_report`.",
    ),
    th.Property(
        "rate_limit_store",
        th.StringType,
        secret=True,
        title="Rate limit store",
        description="URL of a PostgreSQL (`postgresql://user:password@host:5432/db`) or Redis "
        "(`redis://host:6379/0`, `rediss://` for TLS) server holding the app's request "
        "budget, so that jobs on one machine or many together stay under "
        "`max_requests_per_second`. Needs `pip install 'tap-tiktok-reporting[postgres]'` or "
        "`[redis]`. Checked when a sync starts; unset: the limit is this run's alone.",
    ),
    th.Property(
        "rate_limit_key",
        th.StringType,
        title="Rate limit key",
        description="Names the budget in `rate_limit_store`: jobs with the same store and key "
        "share one budget. Default: `app_id`, else `tap-tiktok`.",
    ),
    th.Property(
        "advertisers_per_report_request",
        th.IntegerType(minimum=1, maximum=MAX_ADVERTISERS_PER_REPORT_REQUEST),
        default=MAX_ADVERTISERS_PER_REPORT_REQUEST,
        title="Advertisers per report request",
        description="Advertisers whose due dates are the same are asked for in one report "
        "request, up to this many (TikTok's maximum, 5). Bookmarks stay per advertiser. When "
        "TikTok refuses a batch, its advertisers are asked for one at a time. 1 turns batching "
        "off.",
    ),
    th.Property(
        "max_requests_in_flight",
        th.IntegerType(minimum=1, maximum=200),
        default=DEFAULT_REQUESTS_IN_FLIGHT,
        title="Max requests in flight",
        description="Requests sent at once, across pages, date windows, advertisers. The rate "
        "limit needs about `max_requests_per_second` x TikTok's response time (in seconds) in "
        "flight to be used fully. Pages fetched ahead are capped at this plus 4, so memory "
        "stays bounded.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType(exclusive_minimum=0),
        default=DEFAULT_REQUEST_TIMEOUT,
        title="Request timeout",
        description="Seconds to wait for one response before retrying. Connecting waits at "
        "most 10 s of it.",
    ),
    th.Property(
        "max_retry_seconds",
        th.NumberType(minimum=0),
        default=DEFAULT_MAX_RETRY_SECONDS,
        title="Max retry time",
        description="How long one request keeps being retried (exponential backoff with "
        "jitter) on transient failures before the sync stops.",
    ),
)


def api_root(config: t.Mapping[str, t.Any]) -> str:
    """The API root, no trailing slash: `api_base_url`, else the sandbox or production host."""
    if override := config.get("api_base_url"):
        return str(override).rstrip("/")
    return SANDBOX_API_ROOT if config.get("sandbox") else PRODUCTION_API_ROOT
