"""The DynamoDB store: ``store`` (the OrderStore), sort-key prefixes (``table``), the item codec,
write payloads and their one writer, idempotency records, errors, retries, URL config, admin.

Empty on purpose: ``table`` is imported by infra/ without loading aiodynamo or httpx.
"""
