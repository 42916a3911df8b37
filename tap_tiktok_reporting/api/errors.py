"""TikTok's response codes: which are transient, which are permanent, what the user should do."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

ACCESS_TOKEN_EXPIRED = 40102
QUERY_TOO_LARGE = 40067
PARAMETER_ERROR = 40002

# Retried with backoff (tiktok-api.md section 5): rate limits (40016, 40100, 40132, 40133,
# 61000), task errors and write conflicts (40200-40202), "try again later" validation (40700),
# retryable material fetch errors (40902, 40903, 40913), system errors and maintenance (50000,
# 50002, 51xxx-53xxx RPC, database and serialization faults, 60001).
_TRANSIENT_CODES = frozenset(
    {
        40016,
        40100,
        40132,
        40133,
        40200,
        40201,
        40202,
        40700,
        40902,
        40903,
        40913,
        50000,
        50002,
        60001,
        61000,
    }
)
_TRANSIENT_RANGES = (range(51000, 54000),)
#: HTTP statuses retried like transient codes: request timeout, rate limit, server faults.
TRANSIENT_HTTP_STATUSES = frozenset({408, 429})
#: Answers that mean the app's request rate is over its tier: the whole run pauses.
RATE_LIMITED_CODES = frozenset({40016, 40100, 61000})
#: TikTok's advice after a per-second breach: try again in the next second.
RATE_LIMIT_PAUSE_SECONDS = 1.0

_HINTS: dict[int, str] = {
    40000: "a request parameter is invalid; please report this as a tap bug",
    40001: "the token has no permission for this advertiser or operation: check advertiser_ids "
    "and the scopes granted to the app",
    40002: "TikTok rejected a parameter; the message says which",
    40006: "the API version is not supported: upgrade the tap",
    40007: "the object does not exist: check advertiser_ids",
    40011: "too many ids in one request; please report this as a tap bug",
    40051: "the API version is not supported: upgrade the tap",
    40101: "app_id and secret do not match: check both settings",
    ACCESS_TOKEN_EXPIRED: "the access token has expired: set refresh_token with app_id and "
    "secret, or create a new access token",
    40103: "the refresh token has expired: authorize the app again and set a new refresh_token",
    40104: "no access token was sent: set access_token",
    40105: "the access token is invalid or revoked: create a new one",
    40106: "the token's user cannot access this advertiser: check advertiser_ids",
    40107: "the refresh token is invalid: authorize the app again and set a new refresh_token",
    40110: "the auth_code is invalid, used or expired: authorize the app again",
    40113: "the app is blocked or app_id and secret do not match: check both settings",
    40118: "the app is not allowlisted for this feature",
    40119: "the developer and the advertiser belong to different companies",
    40125: "the developer lacks permission for this operation",
    40300: "the advertiser does not exist: check advertiser_ids",
    40301: "the advertiser cannot be matched: check advertiser_ids",
    41000: "TikTok refuses requests from this IP address's country",
    41001: "this endpoint has been taken offline by TikTok: upgrade the tap",
    41002: "a requested field has been taken offline by TikTok: upgrade the tap",
}


class ErrorClass(enum.Enum):
    """How the tap reacts to a response code."""

    OK = "ok"
    TRANSIENT = "transient"
    TOKEN_EXPIRED = "token_expired"
    PERMANENT = "permanent"


def classify_error(code: int) -> ErrorClass:
    """Return how a TikTok body `code` is handled."""
    if code in {0, 20001}:
        return ErrorClass.OK
    if code == ACCESS_TOKEN_EXPIRED:
        return ErrorClass.TOKEN_EXPIRED
    if code in _TRANSIENT_CODES or any(code in r for r in _TRANSIENT_RANGES):
        return ErrorClass.TRANSIENT
    return ErrorClass.PERMANENT


def hint_for(code: int) -> str:
    """What the user should do about a permanent error code."""
    return _HINTS.get(code, "see TikTok's return-code documentation for this code")


@dataclass(frozen=True)
class ErrorDetails:
    """Everything one error line says: where it happened and what TikTok answered."""

    endpoint: str
    problem: str
    advertiser_id: str | None = None
    code: int | None = None
    message: str | None = None
    request_id: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.endpoint + (
            f" (advertiser{'s' if ',' in self.advertiser_id else ''} {self.advertiser_id})"
            if self.advertiser_id
            else ""
        )
        parts = [f"TikTok API error at {where}: {self.problem}"]
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.message:
            parts.append(f"message {self.message!r}")
        if self.request_id:
            parts.append(f"request_id {self.request_id}")
        line = "; ".join(parts)
        return f"{line}. What to do: {self.hint}" if self.hint else line


class TikTokAPIError(FatalAPIError):
    """A permanent TikTok error: the sync stops with one clear line."""

    def __init__(self, details: ErrorDetails) -> None:
        super().__init__(str(details))
        self.details = details


class TikTokTransientError(RetriableAPIError):
    """A transient TikTok error: retried with backoff, then reported like a permanent one."""

    def __init__(self, details: ErrorDetails, response: object = None) -> None:
        super().__init__(str(details), response)  # type: ignore[arg-type]
        self.details = details
