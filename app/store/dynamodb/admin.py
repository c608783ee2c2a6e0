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
from typing import Any

from aiodynamo.errors import TableNotFound

from app.contract.table import KEY_SCHEMA, TTL_ATTRIBUTE
from app.store.dynamodb.client import DynamoDBClient
from app.store.dynamodb.config import DynamoDBConfig
from app.store.dynamodb.store import DynamoDBStore

ACTIVE_POLLS, POLL_INTERVAL = 120, 0.5  # wait at most a minute for a new table


def create_table_request(table: str) -> dict[str, Any]:
    """CreateTable for the one key schema (``table.KEY_SCHEMA``), billed on demand."""
    return {
        "TableName": table,
        "KeySchema": [
            {"AttributeName": key.name, "KeyType": kind}
            for key, kind in zip(KEY_SCHEMA, ("HASH", "RANGE"), strict=True)
        ],
        "AttributeDefinitions": [
            {"AttributeName": key.name, "AttributeType": key.type} for key in KEY_SCHEMA
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


async def table_status(client: DynamoDBClient, table: str) -> str | None:
    """The table's status (``ACTIVE``, ``CREATING``...), or None when there is no such table."""
    try:
        response = await client.send("DescribeTable", {"TableName": table})
    except TableNotFound:
        return None
    return str(response["Table"]["TableStatus"])


async def create_table(config: DynamoDBConfig) -> bool:
    """Create the on-demand table with its TTL attribute; False when it already exists."""
    store = DynamoDBStore(config)
    await store.open()
    try:
        client = store.client
        if await table_status(client, config.table) is not None:
            return False
        await client.send("CreateTable", create_table_request(config.table))
        for _ in range(ACTIVE_POLLS):
            if await table_status(client, config.table) == "ACTIVE":
                break
            await asyncio.sleep(POLL_INTERVAL)
        else:
            raise TimeoutError(f"table {config.table} not active after a minute")
        ttl = {"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
        await client.send(
            "UpdateTimeToLive", {"TableName": config.table, "TimeToLiveSpecification": ttl}
        )
        return True
    finally:
        await store.close()


async def delete_table(config: DynamoDBConfig) -> None:
    store = DynamoDBStore(config)
    await store.open()
    try:
        await store.client.send("DeleteTable", {"TableName": config.table})
    finally:
        await store.close()


def main(argv: Sequence[str] | None = None) -> int:
    """``create`` or ``delete`` the table a ``dynamodb://`` store URL names."""
    parser = argparse.ArgumentParser(prog="python -m app.store.dynamodb.admin")
    parser.add_argument("command", choices=["create", "delete"], help="create or delete the table")
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
