"""Authentication: TikTok's `Access-Token` header, with an optional refresh-token flow."""

from __future__ import annotations

import datetime
import threading
import time
import typing as t

import backoff
import msgspec
import requests
from singer_sdk.authenticators import OAuthAuthenticator

from tap_tiktok_reporting.errors import (
    ErrorClass,
    ErrorDetails,
    TikTokAPIError,
    TikTokTransientError,
    classify_error,
    hint_for,
)

REFRESH_PATH = "oauth2/refresh_token/"

# A token that expires again this soon after a refresh means refreshing does not help.
_MIN_TOKEN_LIFETIME_SECONDS = 60.0
_REFRESH_RETRY_SECONDS = 60.0


class TikTokAuthenticator(OAuthAuthenticator):
    """Sends `Access-Token`; with a refresh token, renews it at start and when TikTok says 40102.

    One instance serves every stream of a run, so a refresh by one request is seen by all;
    a lock keeps concurrent requests from refreshing twice.
    """

    def __init__(
        self,
        *,
        access_token: str | None,
        refresh_token: str | None,
        app_id: str | None,
        secret: str | None,
        api_root: str,
        session: requests.Session,
        timeout: float,
    ) -> None:
        super().__init__(
            auth_endpoint=f"{api_root}/{REFRESH_PATH}",
            client_id=app_id,
            client_secret=secret,
        )
        self.access_token = access_token
        self.refresh_token = refresh_token
        self._session = session
        self._timeout = timeout
        self._lock = threading.RLock()
        self._expiry_refreshed_at: float | None = None

    @property
    def can_refresh(self) -> bool:
        """Whether a refresh token and the app credentials it needs are all configured."""
        return bool(self.refresh_token and self.client_id and self.client_secret)

    def is_token_valid(self) -> bool:
        """A static token is always used as is; a refreshable one is renewed when due."""
        if not self.can_refresh:
            return True
        return super().is_token_valid()

    @property
    def oauth_request_body(self) -> dict:
        """TikTok's refresh request body."""
        return {
            "app_id": self.client_id,
            "secret": self.client_secret,
            "refresh_token": self.refresh_token,
            "grant_type": "refresh_token",
        }

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Set the `Access-Token` header (TikTok takes no `Authorization` header)."""
        with self._lock:
            if not self.is_token_valid():
                self.update_access_token()
            token = self.access_token
        if token:
            request.headers["Access-Token"] = token
        return request

    def recover_from_expired(self, used_token: str | None) -> bool:
        """Handle code 40102 for a request sent with `used_token`; True if a retry may succeed.

        The token is refreshed and the request retried once: a token that a refresh for an
        expiry just produced and that is refused as expired again ends the sync.
        """
        with self._lock:
            if not self.can_refresh:
                return False
            if used_token != self.access_token:
                return True  # another request has refreshed it already
            if self._expiry_refreshed_at is not None and (
                time.monotonic() - self._expiry_refreshed_at < _MIN_TOKEN_LIFETIME_SECONDS
            ):
                return False
            self.update_access_token()
            self._expiry_refreshed_at = time.monotonic()
            return True

    def update_access_token(self) -> None:
        """Exchange the refresh token for a new access token (and maybe a new refresh token)."""
        self.logger.info("Refreshing the TikTok access token")
        requested_at = datetime.datetime.now(datetime.timezone.utc)
        data = self._post_refresh()
        token = data.get("access_token")
        if not token:
            raise TikTokAPIError(
                ErrorDetails(
                    endpoint=REFRESH_PATH,
                    problem="the refresh response carried no access_token",
                    hint="check that refresh_token belongs to this app",
                )
            )
        self.access_token = str(token)
        if data.get("refresh_token"):
            self.refresh_token = str(data["refresh_token"])
        expires_in = data.get("expires_in")
        self.expires_in = int(expires_in) if expires_in else None
        self.last_refreshed = requested_at

    @backoff.on_exception(
        backoff.expo,
        (TikTokTransientError, requests.exceptions.RequestException),
        max_time=_REFRESH_RETRY_SECONDS,
        factor=0.5,
        jitter=backoff.full_jitter,
    )
    def _post_refresh(self) -> dict[str, t.Any]:
        response = self._session.post(
            self.auth_endpoint, json=self.oauth_request_body, timeout=self._timeout
        )
        problem = "could not refresh the access token"
        if response.status_code >= 500 or response.status_code == 429:
            raise TikTokTransientError(
                ErrorDetails(REFRESH_PATH, f"{problem}: HTTP {response.status_code}")
            )
        if response.status_code >= 400:
            raise TikTokAPIError(
                ErrorDetails(
                    REFRESH_PATH,
                    f"{problem}: HTTP {response.status_code}",
                    hint="check api_base_url",
                )
            )
        try:
            body = msgspec.json.decode(response.content)
        except msgspec.DecodeError as exc:
            raise TikTokTransientError(
                ErrorDetails(REFRESH_PATH, f"{problem}: the response is not valid JSON")
            ) from exc
        code = int(body.get("code", -1))
        kind = classify_error(code)
        details = ErrorDetails(
            endpoint=REFRESH_PATH,
            problem=problem,
            code=code,
            message=body.get("message"),
            request_id=body.get("request_id"),
            hint=None if kind is ErrorClass.TRANSIENT else hint_for(code),
        )
        if kind is ErrorClass.TRANSIENT:
            raise TikTokTransientError(details)
        if kind is not ErrorClass.OK:
            raise TikTokAPIError(details)
        return body.get("data") or {}
