"""Entity streams (advertisers, campaigns, ad groups, ads) and their schemas."""
