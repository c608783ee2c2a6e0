"""The DynamoDB store: ``store`` (the OrderStore), the table definition shared with infra
(``table``), item codec, idempotency records, transactions, retries, URL config and admin.

Empty on purpose: ``table`` is imported by infra/ without loading aiodynamo or httpx.
"""
