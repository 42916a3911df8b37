"""OAuth: the authorization page, advertiser discovery, auth-code exchange and token refresh."""

from __future__ import annotations

import secrets
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import INVALID_AUTH_PARAMS, INVALID_GRANT_TYPE, ApiError
from .routes import Call, Route

if TYPE_CHECKING:
    from .params import Params
    from .server import FakeMarketingAPI

# TikTok's authorization page, beside the API root rather than under it.
AUTHORIZATION_PAGE = "/portal/auth"

# Permission-scope IDs as the token exchange returns them; the values are arbitrary.
SCOPES = [1, 2, 3, 4, 5, 6, 7, 8]
ACCESS_TOKEN_TTL_SECONDS = 86400
REFRESH_TOKEN_TTL_SECONDS = 31536000


def _check_app(call: Call) -> None:
    """Require app_id and secret of this app (40002 if missing, 40101 if wrong)."""
    app_id = call.params.string("app_id", required=True) or ""
    secret = call.params.string("secret", required=True) or ""
    same_app = secrets.compare_digest(app_id.encode(), call.api.app_id.encode())
    same_secret = secrets.compare_digest(secret.encode(), call.api.secret.encode())
    if not (same_app and same_secret):
        raise ApiError(INVALID_AUTH_PARAMS)


def authorization_redirect(api: FakeMarketingAPI, params: Params) -> tuple[int, str]:
    """GET /portal/auth?app_id=..&redirect_uri=..&state=..: the advertiser approves at once.

    Returns (302, the redirect_uri with a fresh one-time `auth_code` and the `state` added), or
    (400, why) for another app's id or a missing or non-HTTP redirect_uri.
    """
    app_id = str(params.values.get("app_id") or "")
    redirect_uri = str(params.values.get("redirect_uri") or "")
    state = str(params.values.get("state") or "")
    if not secrets.compare_digest(app_id.encode(), api.app_id.encode()):
        return HTTPStatus.BAD_REQUEST, "unknown app_id"
    target = urlsplit(redirect_uri)
    if target.scheme not in ("http", "https") or not target.netloc:
        return HTTPStatus.BAD_REQUEST, "redirect_uri must be an http(s) URL"
    query = parse_qsl(target.query, keep_blank_values=True)
    query.append(("auth_code", api.issue_auth_code()))
    if state:
        query.append(("state", state))
    return HTTPStatus.FOUND, urlunsplit(target._replace(query=urlencode(query)))


def advertiser_get(call: Call) -> dict[str, Any]:
    """GET oauth2/advertiser/get/: the advertisers the token is authorized for (no pagination)."""
    _check_app(call)
    data = call.api.data
    rows = []
    for advertiser_id in data.authorized_advertiser_ids:
        advertiser = data.advertiser(advertiser_id)
        if advertiser is not None:
            rows.append({"advertiser_id": advertiser_id, "advertiser_name": advertiser["name"]})
    return {"list": rows}


def access_token(call: Call) -> dict[str, Any]:
    """POST oauth2/access_token/: exchange a one-time auth_code for a long-lived access token."""
    _check_app(call)
    auth_code = call.params.string("auth_code", required=True) or ""
    token = call.api.tokens.redeem_auth_code(auth_code)
    return_ids = call.params.values.get("return_advertiser_ids", True) not in (False, "false")
    return {
        "access_token": token,
        "advertiser_ids": list(call.api.data.authorized_advertiser_ids) if return_ids else [],
        "scope": list(SCOPES),
    }


def refresh_token(call: Call) -> dict[str, Any]:
    """POST oauth2/refresh_token/: replace the access token; the old one then answers 40102."""
    _check_app(call)
    refresh = call.params.string("refresh_token", required=True) or ""
    grant_type = call.params.string("grant_type")
    if grant_type is not None and grant_type != "refresh_token":
        raise ApiError(INVALID_GRANT_TYPE)
    tokens = call.api.tokens
    new_token = tokens.refresh(refresh)
    return {
        "access_token": new_token,
        "refresh_token": tokens.refresh_token,
        "expires_in": ACCESS_TOKEN_TTL_SECONDS,
        "refresh_token_expires_in": REFRESH_TOKEN_TTL_SECONDS,
    }


ROUTES = (
    Route("oauth2/advertiser/get/", advertiser_get),
    Route("oauth2/access_token/", access_token, methods=frozenset({"POST"}), needs_token=False),
    Route("oauth2/refresh_token/", refresh_token, methods=frozenset({"POST"}), needs_token=False),
)
