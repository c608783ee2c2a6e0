"""What each DynamoDB error means for a request: retry it, fix the deployment, or give up.

Every error the DynamoDB API reference lists for the calls the store makes has a place here: the
errors common to all actions (APIReference/CommonErrors.html), each action's own (GetItem,
PutItem, UpdateItem, DeleteItem, Query, TransactWriteItems) and the developer guide's table
(developerguide/Programming.Errors.html). Anything else a DynamoDB endpoint answers is refused.

- transient (``classify``): retried within the budget, then 503 with ``Retry-After: 1``;
- misconfiguration (``misconfiguration``): 503 with ``Retry-After: 30`` at once, and a log line
  that says what to fix;
- refused (``refusal``): the store could never accept the request as sent (a request that breaks
  DynamoDB's rules, a body it could not parse): a JSON 500 at once, one log line, no traceback.
Conditional-check failures are no error of the store: its writes decide what they mean.
"""

from __future__ import annotations

import json
from enum import Enum

from aiodynamo.errors import (
    ERRORS,
    AIODynamoError,
    ConditionalCheckFailed,
    InternalDynamoError,
    NoCredentialsFound,
    ServiceUnavailable,
    TransactionCanceled,
    UnknownError,
    ValidationException,
)

from app.store.dynamodb.config import DynamoDBConfig
from app.store.dynamodb.transport import TRANSPORT_FAILURES, ConnectFailed


class Fault(Enum):
    NOT_APPLIED = "not applied"  # throttled, or never connected: the request was not applied
    MAYBE_APPLIED = "maybe applied"  # 5xx, timeout or broken connection: it may have been


# Refused before anything was applied, and worth another attempt. An expired token is one: the
# client has dropped the key and the next attempt fetches a fresh one.
NOT_APPLIED_ERRORS = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "TransactionInProgressException",
        "ReplicatedWriteConflictException",
        "LimitExceededException",
        "ExpiredTokenException",
    }
)
# Cancellation reasons of a transaction (all or nothing, so nothing was applied) worth a retry.
TRANSIENT_REASONS = frozenset(
    {
        "TransactionConflict",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
        "RequestLimitExceeded",
    }
)
CREDENTIAL_ERRORS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "IncompleteSignature",
        "IncompleteSignatureException",
        "MissingAuthenticationToken",
        "MissingAuthenticationTokenException",
        "OptInRequired",
    }
)
# What to fix, by error; ``{where}`` names the table, region and endpoint.
MISCONFIGURED: dict[str, str] = {
    "ResourceNotFoundException": "{where} does not exist: create it (make dynamodb-table) or fix "
    "STORE_URL",
    "ResourceInUseException": "{where} is being created, updated or deleted: wait until it is "
    "ACTIVE, or fix STORE_URL",
    "ItemCollectionSizeLimitExceededException": "{where} has a local secondary index, which "
    "app/contract/table.py does not define, and an owner's items outgrew its 10 GB: drop "
    "the index or fix STORE_URL",
    "AccessDeniedException": "access to {where} denied: grant the credentials' role the table's "
    "permissions",
    "NotAuthorized": "access to {where} denied: grant the credentials' role the table's "
    "permissions",
    "RequestExpired": "DynamoDB found the requests' signing time more than 15 minutes off for "
    "{where}: set this machine's clock right (NTP)",
    "InvalidEndpointException": "the endpoint of {where} does not serve this table's region: fix "
    "the region or endpoint in STORE_URL",
    "UnknownOperationException": "the endpoint of {where} does not speak DynamoDB's API: fix the "
    "endpoint in STORE_URL",
    "InvalidAction": "the endpoint of {where} does not speak DynamoDB's API: fix the endpoint in "
    "STORE_URL",
}
_NAMES = {cls: name for name, cls in ERRORS.items()}


def error_name(exc: BaseException) -> str | None:
    """DynamoDB's name for the error (``ValidationException``...), when it gave one."""
    if isinstance(exc, UnknownError):
        try:
            return str(json.loads(exc.body)["__type"]).rpartition("#")[2] or None
        except (ValueError, TypeError, KeyError):
            return None
    return _NAMES.get(type(exc))


def _reasons(exc: TransactionCanceled) -> set[str]:
    return {reason.code for reason in exc.cancellation_reasons if reason is not None}


def classify(exc: BaseException) -> Fault | None:
    """The kind of transient fault ``exc`` is, or None when retrying cannot help."""
    if error_name(exc) in NOT_APPLIED_ERRORS or isinstance(exc, ConnectFailed):
        return Fault.NOT_APPLIED
    if isinstance(exc, UnknownError) and exc.status == 429:
        return Fault.NOT_APPLIED  # too many requests, from DynamoDB or a proxy in between
    if isinstance(exc, TransactionCanceled) and _reasons(exc) & TRANSIENT_REASONS:
        return Fault.NOT_APPLIED
    if isinstance(exc, InternalDynamoError | ServiceUnavailable | TimeoutError):
        return Fault.MAYBE_APPLIED  # the transport turns every timeout into TimeoutError
    if isinstance(exc, TRANSPORT_FAILURES):
        return Fault.MAYBE_APPLIED
    if isinstance(exc, UnknownError) and exc.status >= 500:
        return Fault.MAYBE_APPLIED
    return None


def handled_by_the_store(exc: BaseException) -> bool:
    """A conditional write's failure, which the write itself turns into an answer."""
    if isinstance(exc, ConditionalCheckFailed):
        return True
    return isinstance(exc, TransactionCanceled) and _reasons(exc) <= {"ConditionalCheckFailed"}


def misconfiguration(exc: BaseException, config: DynamoDBConfig) -> str | None:
    """What is wrong with the store's configuration when ``exc`` says so, else None.

    These errors do not pass with time or retries (a missing table, a table of another key
    schema, refused credentials or permissions): the API answers 503 and logs this line.
    """
    where = f"table {config.table!r} in {config.region}" + (
        f" at {config.endpoint}" if config.endpoint else ""
    )
    name = error_name(exc)
    if isinstance(exc, TransactionCanceled) and "ItemCollectionSizeLimitExceeded" in _reasons(exc):
        name = "ItemCollectionSizeLimitExceededException"
    if name in MISCONFIGURED:
        return MISCONFIGURED[name].format(where=where)
    if isinstance(exc, ValidationException) and any(
        sign in str(exc) for sign in ("does not match the schema", "Missing the key")
    ):
        return f"{where} has another key schema than app/contract/table.py: fix STORE_URL"
    if (
        name in CREDENTIAL_ERRORS
        or isinstance(exc, NoCredentialsFound)
        or (isinstance(exc, UnknownError) and exc.status == 403)
    ):
        return (
            f"DynamoDB refused the credentials ({name or type(exc).__name__}) for {where}: check "
            "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN"
        )
    return None


def refusal(exc: BaseException, action: str) -> str | None:
    """Why DynamoDB will never accept this ``action`` as sent, when ``exc`` is its answer."""
    if not isinstance(exc, AIODynamoError) or handled_by_the_store(exc):
        return None
    name = error_name(exc)
    if isinstance(exc, UnknownError):
        name = name or f"HTTP {exc.status}"
        said = exc.body.decode("utf-8", "replace")
    else:
        body = exc.args[0] if exc.args else None
        said = str(body.get("message", body)) if isinstance(body, dict) else str(body or "")
    if isinstance(exc, TransactionCanceled):
        said = ", ".join(sorted(_reasons(exc))) or said
    name = name or type(exc).__name__
    return f"{action}: {name} ({said[:300]}); retrying cannot help: report it as a bug"
