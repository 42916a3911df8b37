"""Access tokens, refresh token and one-time auth codes of the fake app."""

from __future__ import annotations

import secrets

from .errors import (
    ACCESS_TOKEN_EMPTY,
    ACCESS_TOKEN_EXPIRED,
    ACCESS_TOKEN_INVALID,
    INVALID_AUTH_CODE,
    INVALID_REFRESH_TOKEN,
    ApiError,
)


class TokenStore:
    """Which access tokens are valid or expired; not locked itself (the server holds its lock).

    Two knobs make tokens expire the way apps with short-lived tokens see it:
    `requests_per_token` (each access token serves that many requests, then answers 40102) and
    `refresh_issues_expired` (a refresh hands out a token that is refused as expired at once).
    """

    def __init__(self, access_token: str, refresh_token: str) -> None:
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.requests_per_token: int | None = None
        self.refresh_issues_expired = False
        #: Every access token this app ever had, the configured one first.
        self.issued: list[str] = [access_token]
        self._valid: set[str] = {access_token}
        self._expired: set[str] = set()
        self._served: dict[str, int] = {}
        self._auth_codes: set[str] = set()

    def check(self, token: str | None) -> None:
        """Raise the TikTok code for a missing (40104), expired (40102) or unknown (40105) token."""
        if not token:
            raise ApiError(ACCESS_TOKEN_EMPTY)
        limit = self.requests_per_token
        if token in self._valid and limit is not None and self._served.get(token, 0) >= limit:
            self._valid.discard(token)
            self._expired.add(token)
        if token in self._expired:
            raise ApiError(ACCESS_TOKEN_EXPIRED)
        if token not in self._valid:
            raise ApiError(ACCESS_TOKEN_INVALID)
        self._served[token] = self._served.get(token, 0) + 1

    def expire_current(self) -> None:
        """The current access token starts answering 40102."""
        self._valid.discard(self.access_token)
        self._expired.add(self.access_token)

    def issue_auth_code(self) -> str:
        """A one-time auth code for oauth2/access_token/."""
        code = f"auth-{secrets.token_hex(16)}"
        self._auth_codes.add(code)
        return code

    def redeem_auth_code(self, code: str) -> str:
        """Consume an auth code and return a new valid access token (older tokens stay valid)."""
        if code not in self._auth_codes:
            raise ApiError(INVALID_AUTH_CODE)
        self._auth_codes.discard(code)
        return self._issue_access_token()

    def refresh(self, refresh_token: str) -> str:
        """Issue a new access token; the old one answers 40102; the refresh token stays."""
        if not secrets.compare_digest(refresh_token.encode(), self.refresh_token.encode()):
            raise ApiError(INVALID_REFRESH_TOKEN)
        self.expire_current()
        token = self._issue_access_token()
        if self.refresh_issues_expired:
            self.expire_current()
        return token

    def _issue_access_token(self) -> str:
        token = secrets.token_hex(20)
        self._valid.add(token)
        self.issued.append(token)
        self.access_token = token
        return token
