"""Schemas of the entity streams, from the fields TikTok documents for each object."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

_TEXT = th.StringType()
_NUMBER = th.NumberType()
_INTEGER = th.IntegerType()
_FLAG = th.BooleanType()
_TIMESTAMP = th.DateTimeType()
_TEXTS = th.ArrayType(th.StringType())
_OBJECTS = th.ArrayType(th.ObjectType(additional_properties=True))


def schema_of(fields: dict[str, th.JSONTypeHelper], required: t.Iterable[str] = ()) -> dict:
    """A stream schema from a name-to-type table; `required` names are non-nullable."""
    required = set(required)
    return th.PropertiesList(
        *(th.Property(name, kind, required=name in required) for name, kind in fields.items())
    ).to_dict()


ADVERTISER_FIELDS: dict[str, th.JSONTypeHelper] = {
    "advertiser_id": _TEXT,
    "name": _TEXT,
    "currency": _TEXT,
    "timezone": _TEXT,
    "display_timezone": _TEXT,
    "status": _TEXT,
    "role": _TEXT,
    "advertiser_account_type": _TEXT,
    "company": _TEXT,
    "company_name_editable": _FLAG,
    "country": _TEXT,
    "language": _TEXT,
    "industry": _TEXT,
    "description": _TEXT,
    "rejection_reason": _TEXT,
    "balance": _NUMBER,
    "create_time": _TIMESTAMP,
    "owner_bc_id": _TEXT,
    "address": _TEXT,
    "email": _TEXT,
    "contacter": _TEXT,
    "telephone_number": _TEXT,
    "cellphone_number": _TEXT,
    "license_no": _TEXT,
    "license_url": _TEXT,
    "license_city": _TEXT,
    "license_province": _TEXT,
    "promotion_area": _TEXT,
    "promotion_center_city": _TEXT,
    "promotion_center_province": _TEXT,
    "brand": _TEXT,
}
#: Added by the tap: the Business Center the run found the advertiser in (null: not through one).
BUSINESS_CENTER_ID = "business_center_id"
ADVERTISER_STREAM_FIELDS: dict[str, th.JSONTypeHelper] = {
    **ADVERTISER_FIELDS,
    BUSINESS_CENTER_ID: _TEXT,
}

_OBJECT_TIMES: dict[str, th.JSONTypeHelper] = {
    "create_time": _TIMESTAMP,
    "modify_time": _TIMESTAMP,
}

CAMPAIGN_FIELDS: dict[str, th.JSONTypeHelper] = {
    "advertiser_id": _TEXT,
    "campaign_id": _TEXT,
    "campaign_name": _TEXT,
    "campaign_type": _TEXT,
    "campaign_system_origin": _TEXT,
    "campaign_product_source": _TEXT,
    "campaign_automation_type": _TEXT,
    "objective_type": _TEXT,
    "objective": _TEXT,
    "app_promotion_type": _TEXT,
    "sales_destination": _TEXT,
    "budget": _NUMBER,
    "budget_mode": _TEXT,
    "budget_optimize_on": _FLAG,
    "operation_status": _TEXT,
    "secondary_status": _TEXT,
    "is_new_structure": _FLAG,
    "is_smart_performance_campaign": _FLAG,
    "is_search_campaign": _FLAG,
    "is_advanced_dedicated_campaign": _FLAG,
    "split_test_enabled": _FLAG,
    "optimization_goal": _TEXT,
    "roas_bid": _NUMBER,
    "deep_bid_type": _TEXT,
    "rf_campaign_type": _TEXT,
    "special_industries": _TEXTS,
    "postback_window_mode": _TEXT,
    **_OBJECT_TIMES,
}

AD_GROUP_FIELDS: dict[str, th.JSONTypeHelper] = {
    "advertiser_id": _TEXT,
    "campaign_id": _TEXT,
    "campaign_name": _TEXT,
    "adgroup_id": _TEXT,
    "adgroup_name": _TEXT,
    "operation_status": _TEXT,
    "secondary_status": _TEXT,
    "budget": _NUMBER,
    "budget_mode": _TEXT,
    "scheduled_budget": _NUMBER,
    "schedule_type": _TEXT,
    "schedule_start_time": _TIMESTAMP,
    "schedule_end_time": _TIMESTAMP,
    "dayparting": _TEXT,
    "placement_type": _TEXT,
    "placements": _TEXTS,
    "promotion_type": _TEXT,
    "optimization_goal": _TEXT,
    "optimization_event": _TEXT,
    "secondary_optimization_event": _TEXT,
    "billing_event": _TEXT,
    "bid_type": _TEXT,
    "bid_price": _NUMBER,
    "conversion_bid_price": _NUMBER,
    "deep_bid_type": _TEXT,
    "deep_cpa_bid": _NUMBER,
    "roas_bid": _NUMBER,
    "pacing": _TEXT,
    "pixel_id": _TEXT,
    "app_id": _TEXT,
    "location_ids": _TEXTS,
    "age_groups": _TEXTS,
    "gender": _TEXT,
    "languages": _TEXTS,
    "operating_systems": _TEXTS,
    "interest_category_ids": _TEXTS,
    "audience_ids": _TEXTS,
    "excluded_audience_ids": _TEXTS,
    "click_attribution_window": _TEXT,
    "view_attribution_window": _TEXT,
    "engaged_view_attribution_window": _TEXT,
    "attribution_event_count": _TEXT,
    "frequency": _INTEGER,
    "frequency_schedule": _INTEGER,
    "is_new_structure": _FLAG,
    "is_smart_performance_campaign": _FLAG,
    "rf_purchased_type": _TEXT,
    "purchased_impression": _INTEGER,
    **_OBJECT_TIMES,
}

AD_FIELDS: dict[str, th.JSONTypeHelper] = {
    "advertiser_id": _TEXT,
    "campaign_id": _TEXT,
    "campaign_name": _TEXT,
    "adgroup_id": _TEXT,
    "adgroup_name": _TEXT,
    "ad_id": _TEXT,
    "ad_name": _TEXT,
    "operation_status": _TEXT,
    "secondary_status": _TEXT,
    "ad_format": _TEXT,
    "ad_text": _TEXT,
    "ad_texts": _TEXTS,
    "call_to_action": _TEXT,
    "call_to_action_id": _TEXT,
    "landing_page_url": _TEXT,
    "deeplink": _TEXT,
    "display_name": _TEXT,
    "identity_id": _TEXT,
    "identity_type": _TEXT,
    "avatar_icon_web_uri": _TEXT,
    "video_id": _TEXT,
    "image_ids": _TEXTS,
    "music_id": _TEXT,
    "tiktok_item_id": _TEXT,
    "creative_type": _TEXT,
    "creative_authorized": _FLAG,
    "is_aco": _FLAG,
    "is_new_structure": _FLAG,
    "tracking_pixel_id": _TEXT,
    "impression_tracking_url": _TEXT,
    "click_tracking_url": _TEXT,
    "card_id": _TEXT,
    "page_id": _TEXT,
    "catalog_id": _TEXT,
    "product_set_id": _TEXT,
    "utm_params": _OBJECTS,
    "optimization_event": _TEXT,
    **_OBJECT_TIMES,
}
