"""Singer tap for the TikTok Marketing (Ads) API."""
