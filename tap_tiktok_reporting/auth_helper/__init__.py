"""`tap-tiktok-auth`: getting and checking tokens."""
