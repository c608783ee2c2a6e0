"""Create or delete the orders table from the one key-schema definition (``table``).

For tests and local runs against a DynamoDB-compatible endpoint; the AWS table itself is
created by the CDK stack from the same definitions::

    python -m app.store.dynamodb.admin create --url 'dynamodb://orders?endpoint=http://127.0.0.1:5000&region=us-east-1'
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from aiodynamo.models import KeySchema, KeySpec, KeyType, PayPerRequest

from app.store.dynamodb.config import DynamoDBConfig
from app.store.dynamodb.store import DynamoDBStore
from app.store.dynamodb.table import KEY_SCHEMA, TTL_ATTRIBUTE


def key_schema() -> KeySchema:
    """aiodynamo's form of ``keys.KEY_SCHEMA``: (HASH, RANGE)."""
    hash_key, range_key = (KeySpec(key.name, KeyType(key.type)) for key in KEY_SCHEMA)
    return KeySchema(hash_key=hash_key, range_key=range_key)


async def create_table(config: DynamoDBConfig) -> bool:
    """Create the on-demand table with its TTL attribute; False when it already exists."""
    store = DynamoDBStore(config)
    await store.open()
    try:
        client = store.client
        if await client.table_exists(config.table):
            return False
        await client.create_table(config.table, PayPerRequest(), key_schema(), wait_for_active=True)
        await client.enable_time_to_live(config.table, TTL_ATTRIBUTE)
        return True
    finally:
        await store.close()


async def delete_table(config: DynamoDBConfig) -> None:
    store = DynamoDBStore(config)
    await store.open()
    try:
        await store.client.delete_table(config.table)
    finally:
        await store.close()


def main(argv: Sequence[str] | None = None) -> int:
    """``create`` or ``delete`` the table a ``dynamodb://`` store URL names."""
    parser = argparse.ArgumentParser(prog="python -m app.store.dynamodb.admin")
    parser.add_argument("command", choices=["create", "delete"])
    parser.add_argument("--url", required=True, help="dynamodb://<table>?region=..&endpoint=..")
    args = parser.parse_args(argv)
    config = DynamoDBConfig.from_url(args.url)
    if args.command == "create":
        created = asyncio.run(create_table(config))
        print(f"table {config.table}: {'created' if created else 'already exists'}")
    else:
        asyncio.run(delete_table(config))
        print(f"table {config.table}: deleted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
