"""The DynamoDB store: ``store`` (the OrderStore), sort-key prefixes (``table``), the item codec,
write payloads and their one writer, idempotency records, errors, retries, URL config, admin.

Empty on purpose: importing one module (``config`` to check a URL, say) loads only what it needs.
"""
