"""The domain: orders and their state machine, idempotency rules, the page cursor (no I/O)."""
