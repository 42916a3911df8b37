"""Custom audiences: /dmp/custom_audience/list/ and /dmp/custom_audience/get/.

Rules from tiktok-api.md section 14:
- list: `advertiser_id` required; `custom_audience_ids` optional (1-100); `page` >= 1 (default
  1), `page_size` 1-100 (default 10). It returns owned and shared audiences with their id,
  name, type, creation and expiry times and `is_creator`/`shared` (TikTok's SDK: "ID, name,
  type, creation time, expiration time"); the rest (validity, size, lookalike spec, history)
  only the get gives;
- get: `advertiser_id` and `custom_audience_ids` (1-100) required; `history_size` 1-100
  (default 100). Each entry is `{audience_details{...}, audience_history[]}`; the details name
  the type `type` (TikTok's SDK mapping; the list says `audience_type`);
- `shared`/`is_creator`: (true, true) owned and shared out, (true, false) shared in by
  `owner_id`, (false, true) owned, not shared;
- times are "YYYY-MM-DD HH:MM:SS" (UTC).

INFERRED (no source says): deleted audiences are neither listed nor detailed, and ids the
advertiser cannot see are left out of the get's answer. `list_lags_deletes` makes the list still
show deleted audiences, as when one is deleted between a client's list and get.

The first advertiser has more than 100 audiences (two list pages of 100, two get batches).
Audiences are shared in from the next advertiser of the dataset.
"""

from __future__ import annotations

import copy
import json
import random
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .advertisers import require_access
from .dataset import Dataset
from .errors import invalid_param
from .pagination import page_params, paginate
from .params import id_list
from .routes import Call, Route

MAX_PAGE_SIZE = 100
MAX_AUDIENCE_IDS = 100
MAX_HISTORY_SIZE = 100
FIRST_ADVERTISER_AUDIENCES = 130
OTHER_AUDIENCES = (4, 9)
LIST_FIELDS = (
    "audience_id",
    "name",
    "audience_type",
    "create_time",
    "expired_time",
    "is_creator",
    "shared",
)
AUDIENCE_TYPES = (
    "Customer File Audience",
    "Engagement Audience",
    "App Activity Audience",
    "Website Audience",
    "Lookalike Audience",
)
CALCULATE_TYPES = ("EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "GAID_SHA256", "MULTIPLE_TYPES")

_UTC = timezone.utc
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_START = datetime(2024, 1, 1, tzinfo=_UTC)
_NOW = datetime(2026, 1, 1, tzinfo=_UTC)


@dataclass
class Audience:
    """One audience as its owner sees it, the advertisers it is shared with, and its history."""

    details: dict[str, Any]
    history: list[dict[str, Any]]
    shared_with: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def audience_id(self) -> str:
        """The audience's id."""
        return str(self.details["audience_id"])

    @property
    def owner_id(self) -> str:
        """The advertiser that created it."""
        return str(self.details["owner_id"])

    def details_for(self, advertiser_id: str) -> dict[str, Any]:
        """The details as `advertiser_id` sees them: its owner, or one it is shared with."""
        details = copy.deepcopy(self.details)
        details["shared"] = bool(self.shared_with)
        details["is_creator"] = advertiser_id == self.owner_id
        return details


class AudienceBook:
    """Every advertiser's custom audiences, derived from the dataset's advertisers."""

    def __init__(self, data: Dataset) -> None:
        self._rng = random.Random(f"{data.spec.seed}-custom-audiences")
        self._audiences: dict[str, Audience] = {}
        self._used_ids: set[str] = set()
        #: The list still shows deleted audiences (the get never does).
        self.list_lags_deletes = False
        advertiser_ids = [a["advertiser_id"] for a in data.advertisers]
        for index, advertiser_id in enumerate(advertiser_ids):
            count = (
                FIRST_ADVERTISER_AUDIENCES if index == 0 else self._rng.randint(*OTHER_AUDIENCES)
            )
            own = [self._make(advertiser_id, i) for i in range(count)]
            # One deleted audience per advertiser; the next advertiser gets two shared in.
            own[-1].deleted = True
            if len(advertiser_ids) > 1:
                neighbour = advertiser_ids[(index + 1) % len(advertiser_ids)]
                for audience in own[:2]:
                    audience.shared_with.append(neighbour)

    # ----- reads -----

    def visible_to(self, advertiser_id: str, *, listing: bool) -> list[Audience]:
        """The audiences the advertiser owns or was shared, newest first."""
        show_deleted = listing and self.list_lags_deletes
        return sorted(
            (
                a
                for a in self._audiences.values()
                if (a.owner_id == advertiser_id or advertiser_id in a.shared_with)
                and (show_deleted or not a.deleted)
            ),
            key=lambda a: (a.details["create_time"], a.audience_id),
            reverse=True,
        )

    # ----- generation -----

    def _new_id(self) -> str:
        while True:
            candidate = str(self._rng.randrange(10**15, 10**16))
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate

    def _make(self, advertiser_id: str, index: int) -> Audience:
        rng = self._rng
        audience_type = AUDIENCE_TYPES[index % len(AUDIENCE_TYPES)]
        created = _START + timedelta(seconds=rng.randrange(600 * 86400))
        expired = created + timedelta(days=365 + rng.randrange(200))
        own_ids = [a.audience_id for a in self._audiences.values() if a.owner_id == advertiser_id]
        is_valid = expired > _NOW and index % 7 != 6
        details: dict[str, Any] = {
            "audience_id": self._new_id(),
            "name": f"Audience {index + 1} ({audience_type})",
            "audience_type": audience_type,
            "audience_sub_type": "REACH_FREQUENCY" if index % 11 == 10 else "NORMAL",
            "calculate_type": rng.choice(CALCULATE_TYPES)
            if audience_type == "Customer File Audience"
            else None,
            "cover_num": rng.randrange(1000, 5_000_000) if is_valid else 0,
            "owner_id": advertiser_id,
            "is_valid": is_valid,
            "is_expiring": _NOW <= expired <= _NOW + timedelta(days=60),
            "is_auto_refresh": audience_type
            in ("Engagement Audience", "App Activity Audience", "Website Audience")
            and rng.random() < 0.5,
            "audience_enhancement": rng.random() < 0.3,
            "enhancement_status": rng.choice(("NOT_ENHANCED", "ENHANCED")),
            "rule": json.dumps({"inclusions": {"operator": "OR", "rules": [{"days": 30}]}})
            if audience_type != "Customer File Audience"
            else None,
            "lookalike_spec": {
                "source_audience_id": rng.choice(own_ids),
                "include_source": rng.random() < 0.5,
                "audience_size": rng.choice(("NARROW", "BALANCED", "BROAD")),
                "mobile_os": rng.choice(("ALL", "ANDROID", "IOS")),
                "placements": ["TikTok"],
                "location_ids": rng.choice((["6252001"], ["1861060", "2921044"])),
            }
            if audience_type == "Lookalike Audience" and own_ids
            else None,
            "msg": "" if is_valid else "Audience is calculating or has expired",
            "error_msg": "",
            "create_time": created.strftime(_TIME_FORMAT),
            "expired_time": expired.strftime(_TIME_FORMAT),
        }
        history = [
            {
                "action": action,
                "action_detail": f"{action.title()} by the fake",
                "editor": "open_api",
                "msg": "",
                "opt_time": (created + timedelta(days=step * 3)).strftime(_TIME_FORMAT),
            }
            for step, action in enumerate(("CREATE", "APPEND", "REMOVE")[: 1 + index % 3])
        ]
        audience = Audience(details=details, history=history)
        self._audiences[audience.audience_id] = audience
        return audience


_BOOKS: weakref.WeakKeyDictionary[Dataset, AudienceBook] = weakref.WeakKeyDictionary()


def audience_book(data: Dataset) -> AudienceBook:
    """The dataset's custom audiences, generated on first use."""
    with data.lock:
        book = _BOOKS.get(data)
        if book is None:
            book = _BOOKS[data] = AudienceBook(data)
        return book


def _audience_ids(call: Call, *, required: bool) -> set[str] | None:
    raw = call.params.json_list("custom_audience_ids", required=required)
    if raw is None:
        return None
    ids = id_list("custom_audience_ids", raw, limit=MAX_AUDIENCE_IDS)
    if not ids:
        raise invalid_param(
            f"custom_audience_ids: Length must be between 1 and {MAX_AUDIENCE_IDS}."
        )
    return set(ids)


def audience_list(call: Call) -> dict[str, Any]:
    """GET dmp/custom_audience/list/: owned and shared audiences, pages of 1-100."""
    advertiser_id = call.params.string("advertiser_id", required=True) or ""
    require_access(call.api.data, [advertiser_id])
    wanted = _audience_ids(call, required=False)
    page, page_size = page_params(call.params, max_page_size=MAX_PAGE_SIZE)
    rows = []
    for audience in audience_book(call.api.data).visible_to(advertiser_id, listing=True):
        if wanted is None or audience.audience_id in wanted:
            details = audience.details_for(advertiser_id)
            rows.append({name: details[name] for name in LIST_FIELDS})
    return paginate(rows, page, page_size)


def audience_get(call: Call) -> dict[str, Any]:
    """GET dmp/custom_audience/get/: details and history of up to 100 audiences."""
    advertiser_id = call.params.string("advertiser_id", required=True) or ""
    require_access(call.api.data, [advertiser_id])
    wanted = _audience_ids(call, required=True) or set()
    history_size = call.params.integer(
        "history_size", default=MAX_HISTORY_SIZE, minimum=1, maximum=MAX_HISTORY_SIZE
    )
    entries = []
    for audience in audience_book(call.api.data).visible_to(advertiser_id, listing=False):
        if audience.audience_id in wanted:
            details = audience.details_for(advertiser_id)
            details["type"] = details.pop("audience_type")
            entries.append(
                {
                    "audience_details": details,
                    "audience_history": copy.deepcopy(audience.history[-history_size:]),
                }
            )
    return {"list": entries}


ROUTES = (
    Route("dmp/custom_audience/list/", audience_list),
    Route("dmp/custom_audience/get/", audience_get),
)
