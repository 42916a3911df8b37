"""TikTok API error codes used by the fake and the exception that carries them."""

from __future__ import annotations

OK = 0
NO_PERMISSION = 40001
INVALID_PARAM = 40002
TOO_MANY_IDS = 40011
QPS_LIMIT = 40100
INVALID_AUTH_PARAMS = 40101
ACCESS_TOKEN_EXPIRED = 40102
ACCESS_TOKEN_EMPTY = 40104
ACCESS_TOKEN_INVALID = 40105
INVALID_REFRESH_TOKEN = 40107
INVALID_GRANT_TYPE = 40108
INVALID_AUTH_CODE = 40110
SYSTEM_ERROR = 50000

DEFAULT_MESSAGES: dict[int, str] = {
    NO_PERMISSION: "No permission to operate.",
    INVALID_PARAM: "Invalid parameter.",
    TOO_MANY_IDS: "Too many IDs.",
    QPS_LIMIT: "Due to too many requests, requests are temporarily restricted.",
    INVALID_AUTH_PARAMS: "Invalid auth params: app_id and secret do not match.",
    ACCESS_TOKEN_EXPIRED: "Access token has expired.",
    ACCESS_TOKEN_EMPTY: (
        "Access token is null, you should set it in http header with key Access-Token."
    ),
    ACCESS_TOKEN_INVALID: "Access token is incorrect or has been revoked.",
    INVALID_REFRESH_TOKEN: "Refresh token is invalid.",
    INVALID_GRANT_TYPE: "Invalid grant_type.",
    INVALID_AUTH_CODE: "Auth code is invalid, expired or already used.",
    SYSTEM_ERROR: "System error.",
    40201: "The task is not ready yet. Please try again later.",
    40700: "Internal validation error, please try again later.",
    50002: "Error occurred when processing the request. Please try again later.",
    60001: "System maintenance. Please try again later.",
    61000: "Too many requests, please try again later.",
}


def qps_limit_message(app_id: str) -> str:
    """TikTok's 40100 text for an app over its QPS limit."""
    return f"Due to too many requests, requests from App [{app_id}] are temporarily restricted."


def default_message(code: int) -> str:
    """Return TikTok-style message text for an error code."""
    return DEFAULT_MESSAGES.get(code, f"Error {code}.")


class ApiError(Exception):
    """An API-level failure, answered as HTTP 200 with a non-zero envelope code."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message or default_message(code)
        super().__init__(f"{code}: {self.message}")


def invalid_param(message: str) -> ApiError:
    """Build a 40002 error whose message names the offending parameter."""
    return ApiError(INVALID_PARAM, message)
