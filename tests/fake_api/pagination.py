"""TikTok's page/page_size pagination: records in data.list, counts in data.page_info."""

from __future__ import annotations

import math
from typing import Any

from .params import Params

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
