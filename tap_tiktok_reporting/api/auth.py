"""Authentication: TikTok's `Access-Token` header, with an optional refresh-token flow."""

from __future__ import annotations

import datetime
import logging
import threading
import typing as t

import backoff
import msgspec
import requests
from singer_sdk.authenticators import OAuthAuthenticator

from tap_tiktok_reporting.api.connectivity import (
    NETWORK_ERRORS,
    FirstContact,
    network_failure,
    retry_waits,
    timeouts,
)
from tap_tiktok_reporting.api.errors import (
    ACCESS_TOKEN_EXPIRED,
    TRANSIENT_HTTP_STATUSES,
    ErrorClass,
    ErrorDetails,
    TikTokAPIError,
    TikTokTransientError,
    classify_error,
    hint_for,
)
from tap_tiktok_reporting.secret_redaction import register_secret
from tap_tiktok_reporting.settings import DEFAULT_MAX_RETRY_SECONDS

if t.TYPE_CHECKING:
    from backoff.types import Details

REFRESH_PATH = "oauth2/refresh_token/"

#: What to do about 40102 when a token obtained by a refresh is refused on its first use.
REFRESHED_TOKEN_REFUSED_HINT = (
    "the refreshed token was refused as expired at once: check that refresh_token belongs to "
    "the app of app_id and secret, or authorize the app again for a new refresh_token"
)
#: What to do about 40102 when refresh_token is set but the app credentials are not.
REFRESH_NEEDS_APP_HINT = (
    "the access token has expired and refresh_token cannot renew it without the app: set "
    "app_id and secret, or create a new access token"
)

_REFRESH_WAIT_FIRST_SECONDS = 0.5
_REFRESH_WAIT_MAX_SECONDS = 15.0


# With requests in flight, a fresh token's first success can be read after another request's
# 40102 for it: one more refresh tells a race from a refresh that yields dead tokens.
_MAX_UNPROVEN_REFRESHES = 2


class TikTokAuthenticator(OAuthAuthenticator):
    """Sends `Access-Token`; with a refresh token, renews it at start and when TikTok says 40102.

    One instance serves every stream of a run, so a refresh by one request is seen by all.
    A lock makes one refresh serve every request that was refused with the same old token.
    A token is refreshed as often as it expires, as long as each refreshed token serves at
    least one request: one refused on its first use ends the sync, since refreshing again
    would give the same.
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
        first_contact: FirstContact | None = None,
        max_retry_seconds: float = DEFAULT_MAX_RETRY_SECONDS,
    ) -> None:
        super().__init__(
            auth_endpoint=f"{api_root}/{REFRESH_PATH}",
            client_id=app_id,
            client_secret=secret,
        )
        for secret_value in (access_token, refresh_token, secret):
            register_secret(secret_value)
        self.access_token = access_token
        self.refresh_token = refresh_token
        self._session = session
        self._timeout = timeout
        self._first_contact = first_contact or FirstContact()
        self._max_retry_seconds = max_retry_seconds
        self._lock = threading.RLock()
        # Whether the current token came from a refresh and has not yet served a request.
        # Refreshes in a row whose token has not served a request yet.
        self._unproven_refreshes = 0

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

    def note_success(self, used_token: str | None) -> None:
        """A request sent with `used_token` succeeded: that token has proven itself."""
        with self._lock:
            if used_token is not None and used_token == self.access_token:
                self._unproven_refreshes = 0

    def recover_from_expired(self, used_token: str | None) -> bool:
        """Handle code 40102 for a request sent with `used_token`; True if a retry may succeed."""
        with self._lock:
            if not self.can_refresh:
                return False
            if used_token != self.access_token:
                return True  # another request has refreshed it already
            if self._unproven_refreshes >= _MAX_UNPROVEN_REFRESHES:
                # Fresh tokens refused before serving anything: refreshing does not help.
                return False
            self.update_access_token()
            return True

    @property
    def expired_token_hint(self) -> str:
        """What to do about an expiry the tap could not recover from, given the settings."""
        if self.can_refresh:
            return REFRESHED_TOKEN_REFUSED_HINT
        if self.refresh_token:
            return REFRESH_NEEDS_APP_HINT
        return hint_for(ACCESS_TOKEN_EXPIRED)

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
        # Registered before anything else happens, so that no later log line can show them.
        register_secret(str(token))
        if data.get("refresh_token"):
            register_secret(str(data["refresh_token"]))
            self.refresh_token = str(data["refresh_token"])
        self.access_token = str(token)
        self._unproven_refreshes += 1
        expires_in = data.get("expires_in")
        self.expires_in = int(expires_in) if expires_in else None
        self.last_refreshed = requested_at

    def _post_refresh(self) -> dict[str, t.Any]:
        """The refresh response's `data`, transient failures retried like any request."""
        retrying = backoff.on_exception(
            lambda: retry_waits(
                self._first_contact, _REFRESH_WAIT_FIRST_SECONDS, _REFRESH_WAIT_MAX_SECONDS
            ),
            TikTokTransientError,
            max_time=self._max_retry_seconds,
            jitter=backoff.full_jitter,
            on_backoff=self._log_retry,
            logger=None,
        )
        return retrying(self._post_refresh_once)()

    def _log_retry(self, details: Details) -> None:
        self.logger.log(
            logging.WARNING,
            "Retrying the token refresh in %.1f s (attempt %d): %s",
            details.get("wait") or 0.0,
            details.get("tries"),
            details.get("exception"),
        )

    def _post_refresh_once(self) -> dict[str, t.Any]:
        problem = "could not refresh the access token"
        try:
            response = self._session.post(
                self.auth_endpoint, json=self.oauth_request_body, timeout=timeouts(self._timeout)
            )
        except NETWORK_ERRORS as exc:
            raise network_failure(
                exc, self.auth_endpoint, REFRESH_PATH, self._first_contact
            ) from None
        status = response.status_code
        if status >= 500 or status in TRANSIENT_HTTP_STATUSES:
            raise TikTokTransientError(ErrorDetails(REFRESH_PATH, f"{problem}: HTTP {status}"))
        if status >= 400:
            raise TikTokAPIError(
                ErrorDetails(REFRESH_PATH, f"{problem}: HTTP {status}", hint="check api_base_url")
            )
        try:
            body = msgspec.json.decode(response.content)
        except msgspec.DecodeError:
            raise TikTokTransientError(
                ErrorDetails(REFRESH_PATH, f"{problem}: the response is not valid JSON")
            ) from None
        if not isinstance(body, dict) or not isinstance(body.get("code"), int):
            raise TikTokTransientError(
                ErrorDetails(REFRESH_PATH, f"{problem}: the response is not a TikTok envelope")
            )
        code = body["code"]
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
        data = body.get("data")
        return data if isinstance(data, dict) else {}
