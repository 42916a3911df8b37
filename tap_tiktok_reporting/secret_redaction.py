"""Secrets kept out of every log line, whichever logger writes it and at whatever level.

Redaction happens when a log record is created (a record factory), so it covers every logger
(urllib3's request lines at DEBUG included) and every handler, also those configured later.
Two rules: every registered secret value is replaced wherever it appears (also URL- and
JSON-encoded), and the value of any credential query parameter (`secret=...`,
`access_token=...`) is replaced even when the value was never registered.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import typing as t
from urllib.parse import quote, quote_plus, unquote

REDACTED = "[REDACTED]"

#: Values shorter than this are not treated as secrets: replacing every "t" would garble logs,
#: and no real token or app secret is that short.
MIN_SECRET_LENGTH = 4
#: Settings whose values are secrets.
SECRET_SETTINGS = ("access_token", "secret", "refresh_token")
#: Settings holding URLs whose password is a secret.
URL_SECRET_SETTINGS = ("rate_limit_store",)

_QUERY_PASSWORD = re.compile(r"(?i)\bpassword=([^&#\s]*)")
_CREDENTIAL_QUERY_VALUE = re.compile(
    r"(?i)\b((?:app_|client_)?secret|access_token|refresh_token|auth_code)=([^&\s\"'#]+)"
)


class SecretRedactor:
    """Replaces known secret values, and credential query values, in text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, secret: str | None) -> None:
        """Redact `secret` from now on, as is and in the encodings it can be logged in."""
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        forms = {
            secret,
            quote(secret, safe=""),
            quote_plus(secret),
            json.dumps(secret)[1:-1],
        }
        with self._lock:
            if forms <= self._values:
                return
            self._values |= forms
            # Longest first, so that a secret containing another is replaced whole.
            alternatives = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))

    def redact(self, text: str) -> str:
        """`text` without any secret."""
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        return _CREDENTIAL_QUERY_VALUE.sub(rf"\1={REDACTED}", text)


_REDACTOR = SecretRedactor()
_install_lock = threading.Lock()
_installed = False


def register_secret(secret: str | None) -> None:
    """Keep `secret` (e.g. a token just received) out of every log line from now on."""
    _REDACTOR.add(secret)


def redact(text: str) -> str:
    """`text` with every registered secret and credential query value replaced."""
    return _REDACTOR.redact(text)


def protect_secrets(config: t.Mapping[str, t.Any]) -> None:
    """Redact the config's secret values from every log record of the process, from now on."""
    for name in SECRET_SETTINGS:
        value = config.get(name)
        if isinstance(value, str):
            register_secret(value)
    for name in URL_SECRET_SETTINGS:
        value = config.get(name)
        if isinstance(value, str):
            for password in url_passwords(value):
                register_secret(password)
    install_log_redaction()


def url_passwords(url: str) -> list[str]:
    """The passwords written in `url` (user part and `password=` query), as written and decoded."""
    found: list[str] = []
    _, sep, rest = url.partition("://")
    userinfo, at, _ = rest.partition("/")[0].rpartition("@")
    if sep and at and ":" in userinfo:
        found.append(userinfo.partition(":")[2])
    found += [match.group(1) for match in _QUERY_PASSWORD.finditer(url)]
    found += [unquote(value) for value in found]
    return sorted({value for value in found if value}, key=len, reverse=True)


def install_log_redaction() -> None:
    """Redact every log record when it is created, before any handler or formatter sees it."""
    global _installed  # one record factory per process
    with _install_lock:
        if _installed:
            return
        make_record = logging.getLogRecordFactory()

        def make_redacted_record(*args: t.Any, **kwargs: t.Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            redact_record(record)
            return record

        logging.setLogRecordFactory(make_redacted_record)
        _installed = True


def redact_record(record: logging.LogRecord) -> None:
    """Replace the record's message, exception text and stack with their redacted forms."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not break the log call itself
        message = f"{record.msg} {record.args}"
    clean = redact(message)
    if clean != message:
        # Records without secrets keep their arguments (the SDK's metric filters read them).
        record.msg, record.args = clean, ()
    if record.exc_info and record.exc_info[0] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        clean = redact(text)
        if clean != text:
            # Formatters print exc_text as is; the exception object itself would leak.
            record.exc_text, record.exc_info = clean, None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
