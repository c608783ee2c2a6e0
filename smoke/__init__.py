"""Black-box end-to-end checks of a running Orders API (``make smoke BASE_URL=...``)."""
