"""TikTok's page/page_size pagination: records in data.list, counts in data.page_info."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .params import Params
from .routes import Call

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 10


def page_params(params: Params, *, max_page_size: int = MAX_PAGE_SIZE) -> tuple[int, int]:
    """Validated (page, page_size): page >= 1, page_size 1..max_page_size, default 10."""
    page = params.integer("page", default=1, minimum=1)
    page_size = params.integer(
        "page_size", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=max_page_size
    )
    return page, page_size


def paginate(rows: list[Any], page: int, page_size: int) -> dict[str, Any]:
    """The `data` of a list endpoint; a page past the end has an empty list but full page_info."""
    start = (page - 1) * page_size
    return {
        "list": rows[start : start + page_size],
        "page_info": {
            "page": page,
            "page_size": page_size,
            "total_number": len(rows),
            "total_page": math.ceil(len(rows) / page_size),
        },
    }


PageHandler = Callable[[Call], dict[str, Any]]


class PageShifts:
    """Listings that shift under the client: an object appears at their head after page 1.

    TikTok pages by offset, so once a new object sorts before a listing that a client pages
    through, every later page starts with the previous page's last row. The new object itself
    sits on page 1, which the client has already read. Not locked (the server holds its lock).
    """

    def __init__(self) -> None:
        self._armed: Counter[str] = Counter()
        self._shifted: set[tuple[str, str]] = set()

    @property
    def shifted_listings(self) -> int:
        """How many listings have been shifted so far."""
        return len(self._shifted)

    def arm(self, path: str, listings: int = 1) -> None:
        """Shift the next `listings` listings of `path` that have more than one page."""
        self._armed[path.lstrip("/")] += listings

    def serve(self, call: Call, handler: PageHandler) -> dict[str, Any]:
        """The handler's answer to `call`, shifted by one row if its listing is a shifted one."""
        data = handler(call)
        page_info = data.get("page_info") if isinstance(data, dict) else None
        if not isinstance(page_info, dict):
            return data
        path, params = call.path, call.params
        listing = (path, _listing_identity(params))
        page = int(page_info["page"])
        if page == 1:
            if self._armed[path] > 0 and int(page_info["total_page"]) > 1:
                self._armed[path] -= 1
                self._shifted.add(listing)
            return data
        if listing not in self._shifted:
            return data
        # Page N of [new] + rows is rows[(N-1)*size - 1 : N*size - 1]: the last row of the
        # unshifted page N-1, then page N without its last row.
        previous = handler(
            replace(call, params=replace(params, values={**params.values, "page": page - 1}))
        )
        size = int(page_info["page_size"])
        total = int(page_info["total_number"]) + 1
        return {
            **data,
            "list": previous["list"][-1:] + data["list"][: size - 1],
            "page_info": {
                **page_info,
                "total_number": total,
                "total_page": math.ceil(total / size),
            },
        }


def _listing_identity(params: Params) -> str:
    """What makes requests pages of one listing: every parameter except `page`."""
    values = {k: v for k, v in params.values.items() if k != "page"}
    return json.dumps(values, sort_keys=True, default=str)
