"""HTTP client, authentication, rate limiting, errors and the page fetcher."""
