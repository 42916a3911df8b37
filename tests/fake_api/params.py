"""Request parameters: JSON-in-query and JSON bodies decoded, typed access raising 40002."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from .errors import ApiError, invalid_param


def _decode_query_value(raw: str) -> Any:
    """Decode a query value that looks like JSON; keep anything else (or bad JSON) as is."""
    if raw[:1] in ("[", "{"):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


@dataclass
class Params:
    """Request parameters: query values (JSON decoded where possible) overlaid by a JSON body."""

    values: dict[str, Any] = field(default_factory=dict)
    body_error: ApiError | None = None

    @classmethod
    def from_request(cls, query: str, body: bytes) -> Params:
        """Merge query string and JSON body (body wins) the way TikTok accepts both on GET."""
        values = {
            name: _decode_query_value(raw) for name, raw in parse_qsl(query, keep_blank_values=True)
        }
        body_error = None
        if body.strip():
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                values.update(decoded)
            else:
                body_error = invalid_param("Request body must be a valid JSON object.")
        return cls(values=values, body_error=body_error)

    def has(self, name: str) -> bool:
        """Return whether the parameter was sent."""
        return name in self.values

    def string(self, name: str, *, required: bool = False) -> str | None:
        """Return a scalar parameter as a string (ints are accepted and stringified)."""
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise invalid_param(f"{name}: Missing data for required field.")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise invalid_param(f"{name}: Not a valid string.")
        return str(value)

    def integer(self, name: str, *, default: int, minimum: int, maximum: int | None = None) -> int:
        """Return an integer parameter within [minimum, maximum]."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise invalid_param(f"{name}: Not a valid integer.")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise invalid_param(f"{name}: Not a valid integer.") from None
        if isinstance(value, float) and number != value:
            raise invalid_param(f"{name}: Not a valid integer.")
        if number < minimum or (maximum is not None and number > maximum):
            bound = (
                f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            )
            raise invalid_param(f"{name}: Must be {bound}.")
        return number

    def _json(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise invalid_param(f"{name}: Invalid JSON string.") from None
        return value

    def json_list(self, name: str, *, required: bool = False) -> list[Any] | None:
        """Return a parameter that must be a JSON array."""
        value = self._json(name)
        if value is None:
            if required:
                raise invalid_param(f"{name}: Missing data for required field.")
            return None
        if not isinstance(value, list):
            raise invalid_param(f"{name}: Not a valid list; send a JSON array.")
        return value

    def json_object(self, name: str) -> dict[str, Any] | None:
        """Return a parameter that must be a JSON object."""
        value = self._json(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise invalid_param(f"{name}: Not a valid object; send a JSON object.")
        return value


def id_list(name: str, value: Any, *, limit: int, too_many_code: int | None = None) -> list[str]:
    """Validate a list of IDs (strings or integers) and return them as strings."""
    if not isinstance(value, list):
        raise invalid_param(f"{name}: Not a valid list; send a JSON array.")
    if len(value) > limit:
        message = f"{name}: Too many IDs, at most {limit} are allowed."
        raise ApiError(too_many_code, message) if too_many_code else invalid_param(message)
    ids = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int)) or not str(item).isdigit():
            raise invalid_param(f"{name}: Every ID must be a numeric string.")
        ids.append(str(item))
    return ids
