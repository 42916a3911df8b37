"""The creative library: each advertiser's images and videos, from TikTok's Asset Library searches.

Both searches page by at most 100 and return at most 10,000 assets per query (the most recently
modified ones); a larger library is reported in a warning rather than cut off silently. Neither
search filters on modification time, so both streams are full table: every run reads the whole
library, and a client-side filter would save no request.
"""

from __future__ import annotations

import itertools
import threading
import typing as t

from singer_sdk import typing as th

from tap_tiktok_reporting.api.client import tiktok_body
from tap_tiktok_reporting.conversions import convert_record
from tap_tiktok_reporting.entities.advertiser_lists import AdvertiserListStream
from tap_tiktok_reporting.entities.schemas import schema_of

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

#: TikTok's largest page for both searches.
LIBRARY_MAX_PAGE_SIZE = 100
#: The most assets one search returns, however large the library.
SEARCH_RESULT_CAP = 10_000

_TEXT = th.StringType()
_INTEGER = th.IntegerType()
_NUMBER = th.NumberType()
_FLAG = th.BooleanType()
_TIMESTAMP = th.DateTimeType()
_TEXTS = th.ArrayType(th.StringType())

IMAGE_FIELDS: dict[str, th.JSONTypeHelper] = {
    "advertiser_id": _TEXT,
    "image_id": _TEXT,
    "material_id": _TEXT,
    "file_name": _TEXT,
    "format": _TEXT,
    "width": _INTEGER,
    "height": _INTEGER,
    "size": _INTEGER,
    "signature": _TEXT,
    "image_url": _TEXT,
    "is_carousel_usable": _FLAG,
    "displayable": _FLAG,
    "create_time": _TIMESTAMP,
    "modify_time": _TIMESTAMP,
}

VIDEO_FIELDS: dict[str, th.JSONTypeHelper] = {
    "advertiser_id": _TEXT,
    "video_id": _TEXT,
    "material_id": _TEXT,
    "file_name": _TEXT,
    "format": _TEXT,
    "width": _INTEGER,
    "height": _INTEGER,
    "size": _INTEGER,
    "duration": _NUMBER,
    "bit_rate": _INTEGER,
    "signature": _TEXT,
    "video_cover_url": _TEXT,
    "preview_url": _TEXT,
    "preview_url_expire_time": _TIMESTAMP,
    "allowed_placements": _TEXTS,
    "allow_download": _FLAG,
    "displayable": _FLAG,
    "fix_task_id": _TEXT,
    "flaw_types": _TEXTS,
    "create_time": _TIMESTAMP,
    "modify_time": _TIMESTAMP,
}


class CreativeLibraryStream(AdvertiserListStream):
    """One advertiser's assets of one kind per partition, from one search (full table)."""

    max_page_size = LIBRARY_MAX_PAGE_SIZE
    # A big account's library is heavy: selected only when asked for.
    selected_by_default = False
    #: What the warnings call the assets ("images", "videos").
    asset_kind: str = "assets"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        # The search's own count per advertiser, read on the page fetcher's threads.
        self._reported_totals: dict[str, int] = {}
        self._totals_lock = threading.Lock()

    def page_rows(self, response: requests.Response, context: Context) -> list[dict[str, t.Any]]:
        """The page's assets, each with its advertiser; notes the search's reported total."""
        advertiser_id = str(context["advertiser_id"])
        page_info = (tiktok_body(response).get("data") or {}).get("page_info") or {}
        try:
            total = int(page_info.get("total_number"))
        except (TypeError, ValueError):
            total = None
        if total is not None:
            with self._totals_lock:
                self._reported_totals[advertiser_id] = max(
                    total, self._reported_totals.get(advertiser_id, 0)
                )
        return super().page_rows(response, context)

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Every asset the search returns; a warning if the library holds more than that."""
        context = dict(context or {})
        advertiser_id = str(context["advertiser_id"])
        returned = 0
        for _listing, pages in self.fetched_listings(context):
            for row in self.unique_rows(itertools.chain.from_iterable(pages), set()):
                returned += 1
                yield convert_record(row, self.converters)
        with self._totals_lock:
            reported = self._reported_totals.pop(advertiser_id, None)
        self.warn_if_capped(advertiser_id, returned, reported)

    def warn_if_capped(self, advertiser_id: str, returned: int, reported: int | None) -> None:
        """Say so when the search stopped at TikTok's cap and assets may be missing."""
        if reported is not None and reported > max(returned, SEARCH_RESULT_CAP):
            self.logger.warning(
                "Advertiser %s has %d %s in its Asset Library, but TikTok's search returns at "
                "most %d per query: %s holds %d of them, %d are missing",
                advertiser_id,
                reported,
                self.asset_kind,
                SEARCH_RESULT_CAP,
                self.name,
                returned,
                reported - returned,
            )
        elif returned >= SEARCH_RESULT_CAP:
            self.logger.warning(
                "Advertiser %s: TikTok's search returned %d %s, its limit per query; the Asset "
                "Library may hold more, which %s does not have",
                advertiser_id,
                returned,
                self.asset_kind,
                self.name,
            )


class CreativeImagesStream(CreativeLibraryStream):
    """Images of the advertiser's Asset Library, from `/file/image/ad/search/`."""

    name = "creative_images"
    path = "file/image/ad/search/"
    primary_keys = ("image_id", "advertiser_id")
    asset_kind = "images"
    schema = schema_of(IMAGE_FIELDS, required=["image_id", "advertiser_id"])


class CreativeVideosStream(CreativeLibraryStream):
    """Videos of the advertiser's Asset Library, from `/file/video/ad/search/`."""

    name = "creative_videos"
    path = "file/video/ad/search/"
    primary_keys = ("video_id", "advertiser_id")
    asset_kind = "videos"
    schema = schema_of(VIDEO_FIELDS, required=["video_id", "advertiser_id"])


CREATIVE_STREAM_TYPES: tuple[type[CreativeLibraryStream], ...] = (
    CreativeImagesStream,
    CreativeVideosStream,
)
