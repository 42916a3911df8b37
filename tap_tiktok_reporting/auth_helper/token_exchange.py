"""Exchanging a one-time `auth_code` for a long-lived access token (`/oauth2/access_token/`)."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from singer_sdk import typing as th

from tap_tiktok_reporting.api.client import TikTokStream, tiktok_body
from tap_tiktok_reporting.api.errors import ErrorDetails, TikTokAPIError
from tap_tiktok_reporting.entities.schemas import schema_of

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

    from tap_tiktok_reporting.tap import TapTikTok

ACCESS_TOKEN_PATH = "oauth2/access_token/"


class AccessTokenExchangeStream(TikTokStream):
    """POST `/oauth2/access_token/` with a JSON body; the response's `data` is the one record.

    The auth code is held by the stream, not passed as context, because the SDK logs contexts
    in its request metrics. The run's authenticator sends no `Access-Token` header when the
    tap has no token configured, which is what this endpoint expects.
    """

    name = "_access_token_exchange"
    path = ACCESS_TOKEN_PATH
    http_method = "POST"
    payload_as_json = True
    paginated = False
    primary_keys = ()
    schema = schema_of(
        {
            "access_token": th.StringType(),
            "advertiser_ids": th.ArrayType(th.StringType()),
            "scope": th.ArrayType(th.IntegerType()),
        }
    )

    def __init__(self, tap: TapTikTok, *, auth_code: str) -> None:
        super().__init__(tap)
        self._auth_code = auth_code

    def prepare_request_payload(
        self, context: Context | None, next_page_token: int | None
    ) -> dict[str, t.Any]:
        """The app credentials and the auth code, as TikTok's JSON body."""
        return {
            "app_id": self.config["app_id"],
            "secret": self.config["secret"],
            "auth_code": self._auth_code,
        }

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """The envelope's `data`: the token and the advertisers it grants."""
        yield tiktok_body(response)["data"]


@dataclass(frozen=True)
class TokenGrant:
    """What an auth-code exchange yields: the token and the advertisers it may read."""

    access_token: str
    advertiser_ids: tuple[str, ...]

    def __repr__(self) -> str:
        # Keeps the token out of tracebacks and debug logs.
        return f"TokenGrant(access_token=<hidden>, advertiser_ids={self.advertiser_ids!r})"


def exchange_auth_code(tap: TapTikTok, auth_code: str) -> TokenGrant:
    """Redeem `auth_code` with the tap's `app_id` and `secret`; TikTok errors raise."""
    data = next(iter(AccessTokenExchangeStream(tap, auth_code=auth_code).request_records(None)))
    token = data.get("access_token")
    if not token:
        raise TikTokAPIError(
            ErrorDetails(
                ACCESS_TOKEN_PATH,
                "the response carried no access_token",
                hint="authorize the app again and exchange the new auth_code",
            )
        )
    ids = (str(value) for value in data.get("advertiser_ids") or [])
    return TokenGrant(access_token=str(token), advertiser_ids=tuple(dict.fromkeys(ids)))
