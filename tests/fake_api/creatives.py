"""The Asset Library: /file/image/ad/search/ and /file/video/ad/search/.

Rules from tiktok-api.md section 13:
- `advertiser_id` is required; `page` >= 1 (default 1), `page_size` 1-100 (default 20);
- image `filtering`: `image_ids` (<= 100), `material_ids` (<= 100), `width`, `height`, `ratio`
  (a list; 1.7 matches 1.65-1.75), `displayable` (true: only displayable images);
- video `filtering`: `video_ids` (<= 100), `material_ids` (<= 20), `video_name` (fuzzy),
  `video_material_sources` (an enum list), and the deprecated `width`, `height`, `ratio`,
  `displayable`, still accepted;
- a search returns at most the 10,000 most recently modified assets. INFERRED (no source says):
  `page_info.total_number` still counts every match and `total_page` covers the 10,000 only;
- times are ISO 8601 UTC ("2020-06-10T07:39:14Z"), except the video's
  `preview_url_expire_time` ("YYYY-MM-DD HH:MM:SS", UTC).

Every advertiser's library holds the images and videos its ads use (deleted ads' too), plus
assets no ad uses; the first advertiser has more than 100 images, so its search has pages.
Generated from the dataset's advertisers and ads, deterministically from the spec's seed.
"""

from __future__ import annotations

import copy
import hashlib
import math
import random
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .advertisers import require_access
from .dataset import Dataset
from .errors import invalid_param
from .pagination import page_params
from .routes import Call, Route

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
SEARCH_CAP = 10_000
MAX_IMAGE_FILTER_IDS = 100
MAX_VIDEO_IDS = 100
MAX_VIDEO_MATERIAL_IDS = 20
RATIO_TOLERANCE = 0.05
VIDEO_MATERIAL_SOURCES = (
    "UPLOADED_TO_TIKTOK_ADS_MANAGER",
    "UPLOADED_TO_CATALOG",
    "CREATIVE_TOOL_SMART_VIDEO",
    "CREATIVE_TOOL_QUICK_OPTIMIZATION",
    "CREATIVE_TOOL_VIDEO_TEMPLATE",
    "CREATIVE_TOOL_SMART_VIDEO_SOUNDTRACK",
    "CREATIVE_TOOL_TIKTOK_VIDEO_EDITOR",
    "TIKTOK_CREATIVE_EXCHANGE",
    "CATALOG_VIDEO_TEMPLATE",
    "DYNAMIC_VIDEO_EDITOR",
    "CREATIVE_CHALLENGE",
    "AUTOMATED_CREATIVE_OPTIMIZATION",
    "OTHER",
    "QUICK_GENERATION",
    "CREATIVE_CENTER_VIDEO_UPLOAD",
    "CREATIVE_CENTER_TIKTOK_VIDEO_EDITOR",
    "CREATIVE_CENTER_VIDEO_TEMPLATE",
    "DYNAMIC_SCENE",
    "SMART_OPTIMIZATION_TOOL",
)
IMAGE_FILTER_KEYS = {"image_ids", "material_ids", "width", "height", "ratio", "displayable"}
VIDEO_FILTER_KEYS = {
    "video_ids",
    "material_ids",
    "video_name",
    "video_material_sources",
    "width",
    "height",
    "ratio",
    "displayable",
}
#: Library-only assets of the first advertiser (more than one page of 100) and of the others.
FIRST_ADVERTISER_EXTRA_IMAGES = 130
FIRST_ADVERTISER_EXTRA_VIDEOS = 12
OTHER_EXTRA_ASSETS = (2, 9)

_UTC = timezone.utc
_LIBRARY_START = datetime(2023, 6, 1, tzinfo=_UTC)
_SIZES = ((1080, 1920), (720, 1280), (1200, 628), (640, 640), (1080, 1080))


def iso_utc(moment: datetime) -> str:
    """The library's time format: ISO 8601 in UTC with a Z."""
    return moment.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class AdvertiserLibrary:
    """One advertiser's assets as the searches return them, plus each video's source."""

    images: list[dict[str, Any]] = field(default_factory=list)
    videos: list[dict[str, Any]] = field(default_factory=list)
    video_sources: dict[str, str] = field(default_factory=dict)


class CreativeLibrary:
    """Every advertiser's Asset Library, derived from the dataset's advertisers and ads."""

    def __init__(self, data: Dataset) -> None:
        self._data = data
        self._by_advertiser: dict[str, AdvertiserLibrary] = {}
        self._rng = random.Random(f"{data.spec.seed}-creative-library")
        self._material_ids: set[str] = set()
        ads = data.ads
        for index, advertiser in enumerate(data.advertisers):
            advertiser_id = advertiser["advertiser_id"]
            own_ads = [ad for ad in ads if ad["advertiser_id"] == advertiser_id]
            first = index == 0
            library = AdvertiserLibrary()
            image_ids = dict.fromkeys(i for ad in own_ads for i in ad.get("image_ids") or [])
            video_ids = dict.fromkeys(ad["video_id"] for ad in own_ads if ad.get("video_id"))
            extra_images = (
                FIRST_ADVERTISER_EXTRA_IMAGES if first else self._rng.randint(*OTHER_EXTRA_ASSETS)
            )
            extra_videos = (
                FIRST_ADVERTISER_EXTRA_VIDEOS if first else self._rng.randint(*OTHER_EXTRA_ASSETS)
            )
            for image_id in [*image_ids, *self._new_image_ids(extra_images)]:
                library.images.append(self._image(image_id))
            for video_id in [*video_ids, *self._new_video_ids(extra_videos)]:
                library.videos.append(self._video(video_id))
                library.video_sources[video_id] = self._rng.choice(VIDEO_MATERIAL_SOURCES[:4])
            self._by_advertiser[advertiser_id] = library

    # ----- reads -----

    def images(self, advertiser_id: str) -> list[dict[str, Any]]:
        """The advertiser's images in search order (most recently modified first), copied."""
        return copy.deepcopy(_newest_first(self._library(advertiser_id).images))

    def videos(self, advertiser_id: str) -> list[dict[str, Any]]:
        """The advertiser's videos in search order (most recently modified first), copied."""
        return copy.deepcopy(_newest_first(self._library(advertiser_id).videos))

    def video_source(self, advertiser_id: str, video_id: str) -> str:
        """How a video came into the library (`video_material_sources`)."""
        return self._library(advertiser_id).video_sources[video_id]

    # ----- changes for tests -----

    def add_images(self, advertiser_id: str, count: int) -> list[str]:
        """Add `count` images no ad uses to the advertiser's library; returns their ids."""
        ids = self._new_image_ids(count)
        self._library(advertiser_id).images.extend(self._image(i) for i in ids)
        return ids

    def add_videos(self, advertiser_id: str, count: int) -> list[str]:
        """Add `count` videos no ad uses to the advertiser's library; returns their ids."""
        library = self._library(advertiser_id)
        ids = self._new_video_ids(count)
        for video_id in ids:
            library.videos.append(self._video(video_id))
            library.video_sources[video_id] = "UPLOADED_TO_TIKTOK_ADS_MANAGER"
        return ids

    # ----- generation -----

    def _library(self, advertiser_id: str) -> AdvertiserLibrary:
        return self._by_advertiser.setdefault(advertiser_id, AdvertiserLibrary())

    def _new_image_ids(self, count: int) -> list[str]:
        return [f"ad-site-i18n-sg/lib{self._rng.randrange(16**12):012x}" for _ in range(count)]

    def _new_video_ids(self, count: int) -> list[str]:
        return [f"v10033g50000lib{self._rng.randrange(16**13):013x}" for _ in range(count)]

    def _material_id(self) -> str:
        while True:
            candidate = str(self._rng.randrange(7 * 10**18, 8 * 10**18))
            if candidate not in self._material_ids:
                self._material_ids.add(candidate)
                return candidate

    def _times(self) -> tuple[datetime, datetime]:
        created = _LIBRARY_START + timedelta(seconds=self._rng.randrange(700 * 86400))
        return created, created + timedelta(seconds=self._rng.randrange(90 * 86400))

    def _image(self, image_id: str) -> dict[str, Any]:
        rng = self._rng
        width, height = rng.choice(_SIZES)
        created, modified = self._times()
        image_format = rng.choice(("jpeg", "png"))
        digest = hashlib.md5(image_id.encode(), usedforsecurity=False).hexdigest()
        return {
            "image_id": image_id,
            "material_id": self._material_id(),
            "is_carousel_usable": rng.random() < 0.5,
            "width": width,
            "height": height,
            "format": image_format,
            "image_url": f"https://p16-fake.example.com/{image_id}~tplv-noop.image?x-expires=1",
            "signature": digest,
            "size": rng.randrange(20_000, 3_000_000),
            "file_name": f"creative-{digest[:8]}.{image_format}",
            "create_time": iso_utc(created),
            "modify_time": iso_utc(modified),
            "displayable": rng.random() < 0.8,
        }

    def _video(self, video_id: str) -> dict[str, Any]:
        rng = self._rng
        width, height = rng.choice(_SIZES)
        created, modified = self._times()
        digest = hashlib.md5(video_id.encode(), usedforsecurity=False).hexdigest()
        return {
            "video_id": video_id,
            "video_cover_url": f"https://p16-fake.example.com/cover/{video_id}?x-expires=1",
            "format": "mp4",
            "preview_url": f"https://v16-fake.example.com/preview/{video_id}?x-expires=1",
            "preview_url_expire_time": (modified + timedelta(hours=6)).strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "duration": round(rng.uniform(5, 60), 3),
            "height": height,
            "width": width,
            "bit_rate": rng.randrange(500_000, 8_000_000),
            "signature": digest,
            "size": rng.randrange(1_000_000, 80_000_000),
            "material_id": self._material_id(),
            "allowed_placements": rng.choice(
                (["PLACEMENT_TIKTOK"], ["PLACEMENT_TIKTOK", "PLACEMENT_PANGLE"])
            ),
            "allow_download": rng.random() < 0.5,
            "file_name": f"video-{digest[:8]}.mp4",
            "create_time": iso_utc(created),
            "modify_time": iso_utc(modified),
            "displayable": rng.random() < 0.8,
            # Observed live on the video endpoints, null for ordinary videos.
            "fix_task_id": None,
            "flaw_types": None,
        }


def _newest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: row["modify_time"], reverse=True)


_LIBRARIES: weakref.WeakKeyDictionary[Dataset, CreativeLibrary] = weakref.WeakKeyDictionary()


def creative_library(data: Dataset) -> CreativeLibrary:
    """The dataset's Asset Libraries, generated on first use."""
    with data.lock:
        library = _LIBRARIES.get(data)
        if library is None:
            library = _LIBRARIES[data] = CreativeLibrary(data)
        return library


# ----- the endpoints -----


def _ids(filtering: dict[str, Any], key: str, limit: int) -> set[str] | None:
    if key not in filtering:
        return None
    value = filtering[key]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise invalid_param(f"filtering.{key}: Not a valid list; send a JSON array of strings.")
    if not 1 <= len(value) <= limit:
        raise invalid_param(f"filtering.{key}: Length must be between 1 and {limit}.")
    return {str(v) for v in value}


def _int_filter(filtering: dict[str, Any], key: str) -> int | None:
    value = filtering.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_param(f"filtering.{key}: Not a valid integer.")
    return value


def _ratios(filtering: dict[str, Any]) -> list[float] | None:
    value = filtering.get("ratio")
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    ):
        raise invalid_param("filtering.ratio: Not a valid list of numbers.")
    return [float(v) for v in value]


def _common_predicates(filtering: dict[str, Any]) -> list:
    predicates = []
    width, height, ratios = (
        _int_filter(filtering, "width"),
        _int_filter(filtering, "height"),
        _ratios(filtering),
    )
    displayable = filtering.get("displayable", False)
    if not isinstance(displayable, bool):
        raise invalid_param("filtering.displayable: Not a valid boolean.")
    if width is not None:
        predicates.append(lambda row: row["width"] == width)
    if height is not None:
        predicates.append(lambda row: row["height"] == height)
    if ratios is not None:
        predicates.append(
            lambda row: any(
                abs(row["width"] / row["height"] - r) <= RATIO_TOLERANCE + 1e-9 for r in ratios
            )
        )
    if displayable:
        predicates.append(lambda row: row["displayable"])
    return predicates


def _unknown_keys(filtering: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(filtering) - known)
    if unknown:
        raise invalid_param(f"filtering: Unknown field(s) {unknown}.")


def capped_page(rows: list[dict[str, Any]], page: int, page_size: int) -> dict[str, Any]:
    """A search's `data`: the first 10,000 matches paged; `total_number` counts them all."""
    returned = rows[:SEARCH_CAP]
    start = (page - 1) * page_size
    return {
        "list": returned[start : start + page_size],
        "page_info": {
            "page": page,
            "page_size": page_size,
            "total_number": len(rows),
            "total_page": math.ceil(len(returned) / page_size),
        },
    }


def _search_params(call: Call) -> tuple[str, int, int, dict[str, Any]]:
    advertiser_id = call.params.string("advertiser_id", required=True) or ""
    require_access(call.api.data, [advertiser_id])
    page, page_size = page_params(call.params, max_page_size=MAX_PAGE_SIZE)
    if not call.params.has("page_size"):
        page_size = DEFAULT_PAGE_SIZE
    return advertiser_id, page, page_size, call.params.json_object("filtering") or {}


def image_search(call: Call) -> dict[str, Any]:
    """GET file/image/ad/search/: the advertiser's images, newest first, pages of 1-100."""
    advertiser_id, page, page_size, filtering = _search_params(call)
    _unknown_keys(filtering, IMAGE_FILTER_KEYS)
    predicates = _common_predicates(filtering)
    image_ids = _ids(filtering, "image_ids", MAX_IMAGE_FILTER_IDS)
    material_ids = _ids(filtering, "material_ids", MAX_IMAGE_FILTER_IDS)
    if image_ids is not None:
        predicates.append(lambda row: row["image_id"] in image_ids)
    if material_ids is not None:
        predicates.append(lambda row: row["material_id"] in material_ids)
    rows = creative_library(call.api.data).images(advertiser_id)
    return capped_page([r for r in rows if all(p(r) for p in predicates)], page, page_size)


def video_search(call: Call) -> dict[str, Any]:
    """GET file/video/ad/search/: the advertiser's videos, newest first, pages of 1-100."""
    advertiser_id, page, page_size, filtering = _search_params(call)
    _unknown_keys(filtering, VIDEO_FILTER_KEYS)
    predicates = _common_predicates(filtering)
    video_ids = _ids(filtering, "video_ids", MAX_VIDEO_IDS)
    material_ids = _ids(filtering, "material_ids", MAX_VIDEO_MATERIAL_IDS)
    if video_ids is not None:
        predicates.append(lambda row: row["video_id"] in video_ids)
    if material_ids is not None:
        predicates.append(lambda row: row["material_id"] in material_ids)
    if (name := filtering.get("video_name")) is not None:
        if not isinstance(name, str):
            raise invalid_param("filtering.video_name: Not a valid string.")
        predicates.append(lambda row: name.casefold() in row["file_name"].casefold())
    library = creative_library(call.api.data)
    if (sources := filtering.get("video_material_sources")) is not None:
        if not isinstance(sources, list) or any(s not in VIDEO_MATERIAL_SOURCES for s in sources):
            raise invalid_param(
                "filtering.video_material_sources: Must be a list of: "
                + ", ".join(VIDEO_MATERIAL_SOURCES)
            )
        predicates.append(
            lambda row: library.video_source(advertiser_id, row["video_id"]) in sources
        )
    rows = library.videos(advertiser_id)
    return capped_page([r for r in rows if all(p(r) for p in predicates)], page, page_size)


ROUTES = (
    Route("file/image/ad/search/", image_search),
    Route("file/video/ad/search/", video_search),
)
