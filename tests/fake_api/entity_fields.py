"""The rest of the documented campaign, ad group and ad fields, derived from each object's id.

dataset.py generates the fields the fake's rules read (ids, names, statuses, times, budgets);
these are the remaining documented response fields (facts §3: DOC:1739315828649986,
DOC:1739314558673922, and the official field tables as bububa's models translate them), with
values of their documented types. Each value is a pure function of the object's id and the
field's name, so every answer is the same.
"""

from __future__ import annotations

import hashlib
from typing import Any

# Field -> kind. Kinds: text, flag, integer, number, texts, integers, object, objects.
CAMPAIGN_EXTRA = {
    "app_id": "id",
    "virtual_objective_type": "text",
    "catalog_enabled": "flag",
    "split_test_variable": "text",
    "bid_type": "text",
    "rta_id": "id",
    "rta_bid_enabled": "flag",
    "rta_product_selection_enabled": "flag",
    "disable_skan_campaign": "flag",
    "bid_align_type": "text",
    "campaign_app_profile_page_state": "text",
    "postback_window_mode": "text",
    "po_number": "text",
    "is_search_campaign": "flag",
    "is_advanced_dedicated_campaign": "flag",
    "split_test_enabled": "flag",
    "sales_destination": "text",
    "campaign_product_source": "text",
}
ADGROUP_EXTRA = {
    "shopping_ads_type": "text",
    "identity_id": "id",
    "identity_type": "text",
    "product_source": "text",
    "catalog_id": "id",
    "store_id": "id",
    "promotion_target_type": "text",
    "promotion_website_type": "text",
    "app_id": "id",
    "app_type": "text",
    "app_download_url": "text",
    "pixel_id": "id",
    "optimization_event": "text",
    "deep_funnel_optimization_status": "text",
    "tiktok_subplacements": "texts",
    "search_result_enabled": "flag",
    "comment_disabled": "flag",
    "video_download_disabled": "flag",
    "share_disabled": "flag",
    "blocked_pangle_app_ids": "ids",
    "auto_targeting_enabled": "flag",
    "zipcode_ids": "ids",
    "exclude_age_under_eighteen": "flag",
    "spending_power": "text",
    "household_income": "texts",
    "audience_ids": "ids",
    "excluded_audience_ids": "ids",
    "smart_audience_enabled": "flag",
    "interest_category_ids": "ids",
    "interest_keyword_ids": "ids",
    "actions": "objects",
    "smart_interest_behavior_enabled": "flag",
    "operating_systems": "texts",
    "min_android_version": "text",
    "ios14_targeting": "text",
    "device_price_ranges": "integers",
    "contextual_tag_ids": "ids",
    "brand_safety_type": "text",
    "inventory_filter_enabled": "flag",
    "category_exclude_ids": "ids",
    "dayparting": "text",
    "secondary_optimization_event": "text",
    "frequency": "integer",
    "frequency_schedule": "integer",
    "deep_bid_type": "text",
    "deep_cpa_bid": "number",
    "roas_bid": "number",
    "vbo_window": "text",
    "bid_display_mode": "text",
    "next_day_retention": "number",
    "engaged_view_attribution_window": "text",
    "attribution_event_count": "text",
    "statistic_type": "text",
    "is_hfss": "flag",
    "creative_material_mode": "text",
    "adgroup_app_profile_page_state": "text",
    "feed_type": "text",
    "purchased_reach": "integer",
    "rf_estimated_cpr": "number",
    "rf_estimated_frequency": "number",
    "is_new_structure": "flag",
    "is_smart_performance_campaign": "flag",
    "skip_learning_phase": "flag",
    "schedule_infos": "objects",
    "delivery_mode": "text",
}
# Returned for TopView ad groups only (DOC:1739314558673922, bububa adgroup.go).
TOPVIEW_ADGROUP_EXTRA = {
    "predict_impression": "integer",
    "topview_reach_range": "integers",
    "pre_discount_cpm": "number",
    "cpm": "number",
    "discount_type": "text",
    "discount_percentage": "number",
    "pre_discount_budget": "number",
}
AD_EXTRA = {
    "identity_type": "text",
    "catalog_id": "id",
    "product_specific_type": "text",
    "item_group_ids": "ids",
    "sku_ids": "ids",
    "product_set_id": "id",
    "vertical_video_strategy": "text",
    "dynamic_format": "text",
    "carousel_image_index": "integer",
    "music_id": "id",
    "tiktok_item_id": "id",
    "promotional_music_disabled": "flag",
    "item_duet_status": "text",
    "item_stitch_status": "text",
    "dark_post_status": "text",
    "branded_content_disabled": "flag",
    "ad_texts": "texts",
    "call_to_action_id": "id",
    "card_id": "id",
    "utm_params": "objects",
    "page_id": "id",
    "cpp_url": "text",
    "tiktok_page_category": "text",
    "deeplink": "text",
    "deeplink_type": "text",
    "deeplink_format_type": "text",
    "shopping_ads_deeplink_type": "text",
    "deeplink_utm_params": "objects",
    "fallback_type": "text",
    "dynamic_destination": "text",
    "aigc_disclosure_type": "text",
    "disclaimer_type": "text",
    "disclaimer_text": "object",
    "disclaimer_clickable_texts": "objects",
    "tracking_pixel_id": "id",
    "tracking_app_id": "id",
    "tracking_offline_event_set_ids": "ids",
    "vast_moat_enabled": "flag",
    "viewability_postbid_partner": "text",
    "viewability_vast_url": "text",
    "brand_safety_postbid_partner": "text",
    "brand_safety_vast_url": "text",
    "impression_tracking_url": "text",
    "click_tracking_url": "text",
    "video_view_tracking_url": "text",
    "creative_type": "text",
    "app_name": "text",
    "avatar_icon_web_uri": "text",
    "profile_image_url": "text",
    "creative_authorized": "flag",
    "optimization_event": "text",
}
EXTRA_FIELDS = {"campaign": CAMPAIGN_EXTRA, "adgroup": ADGROUP_EXTRA, "ad": AD_EXTRA}
# Enumerations of the named fields (facts §3 and the models' comments).
ENUMS = {
    "split_test_variable": ("CREATIVE", "AUDIENCE", "BIDDING_OPTIMIZATION"),
    "campaign_app_profile_page_state": ("INVALID", "UNSET", "ON", "OFF"),
    "adgroup_app_profile_page_state": ("INVALID", "UNSET", "ON", "OFF"),
    "deeplink_type": ("NORMAL", "DEFERRED_DEEPLINK"),
    "brand_safety_postbid_partner": ("UNSET", "DOUBLE_VERIFY", "IAS", "ZEFR"),
    "viewability_postbid_partner": ("UNSET", "MOAT", "DOUBLE_VERIFY", "IAS", "ZEFR"),
    "bid_align_type": ("SAN", "SKAN"),
    "discount_type": ("NO_DISCOUNT", "BY_PERCENTAGE"),
}


def _draw(object_id: str, name: str) -> int:
    digest = hashlib.sha256(f"{object_id}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _value(object_id: str, name: str, kind: str) -> Any:
    n = _draw(object_id, name)
    if kind == "flag":
        return n % 2 == 0
    if kind == "integer":
        return n % 5000
    if kind == "number":
        return round((n % 100000) / 100, 2)
    if kind == "id":
        return None if n % 4 == 0 else str(10**15 + n % 10**15)
    if kind == "ids":
        return [str(10**15 + (n >> s) % 10**15) for s in range(0, 8 * (n % 3), 8)]
    if kind == "integers":
        return sorted([n % 500, (n >> 16) % 500 + 500])
    if kind == "texts":
        return [f"{name.upper()}_{(n >> s) % 7}" for s in range(0, 8 * (n % 3), 8)]
    if kind == "object":
        return {"text": f"{name} {n % 97}"}
    if kind == "objects":
        return [{"key": f"k{n % 5}", "value": f"v{n % 11}"}] if n % 3 else []
    choices = ENUMS.get(name)
    if choices:
        return choices[n % len(choices)]
    if name.endswith("_url") or name == "deeplink":
        return f"https://example.com/{name}/{n % 1000}"
    return None if n % 5 == 0 else f"{name.upper()}_{n % 7}"


def extra_fields(level: str, row: dict[str, Any], buying_type: str) -> dict[str, Any]:
    """The documented fields of one object besides those dataset.py generates."""
    object_id = row[f"{level}_id"]
    fields = dict(EXTRA_FIELDS[level])
    if level == "adgroup" and buying_type == "RESERVATION_TOP_VIEW":
        fields |= TOPVIEW_ADGROUP_EXTRA
    return {name: _value(object_id, name, kind) for name, kind in fields.items() if name not in row}


def known_fields(level: str) -> tuple[str, ...]:
    """Every extra field a `fields` parameter may name at this level."""
    extra = EXTRA_FIELDS[level] | (TOPVIEW_ADGROUP_EXTRA if level == "adgroup" else {})
    return tuple(extra)
