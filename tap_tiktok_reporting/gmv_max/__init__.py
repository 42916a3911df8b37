"""GMV Max (TikTok Shop): stores, campaigns and the daily campaign report."""
