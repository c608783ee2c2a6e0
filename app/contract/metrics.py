"""The service's CloudWatch metrics: namespace, dimensions, names and units.

The EMF middleware (``app.http.middleware.emf``) writes them; the stack's alarms and dashboard
(``infra/monitoring.py``) read them.
"""

from __future__ import annotations

NAMESPACE = "OrdersApi"
STAGE_DIMENSION = "stage"
ROUTE_DIMENSION = "route"
# Every value is published twice: for the stage as a whole and per route template.
DIMENSION_SETS = ((STAGE_DIMENSION,), (STAGE_DIMENSION, ROUTE_DIMENSION))
UNMATCHED = "UNMATCHED"  # no route template (404 for an unknown path): the raw path never leaves

# Always present: ClientErrors and ServerErrors are 0 or 1, so their Average is the error rate.
REQUESTS, LATENCY, CLIENT_ERRORS, SERVER_ERRORS = (
    "Requests", "Latency", "ClientErrors", "ServerErrors",
)  # fmt: skip
# Present on the requests they count only.
ORDERS_CREATED, ORDERS_PAID, ORDERS_CANCELLED = "OrdersCreated", "OrdersPaid", "OrdersCancelled"
IDEMPOTENT_REPLAYS = "IdempotentReplays"
CONFLICTS, PRECONDITION_FAILURES = "Conflicts", "PreconditionFailures"
UNITS = {
    REQUESTS: "Count",
    LATENCY: "Milliseconds",
    CLIENT_ERRORS: "Count",
    SERVER_ERRORS: "Count",
    ORDERS_CREATED: "Count",
    ORDERS_PAID: "Count",
    ORDERS_CANCELLED: "Count",
    IDEMPOTENT_REPLAYS: "Count",
    CONFLICTS: "Count",
    PRECONDITION_FAILURES: "Count",
}
# A first (not replayed) success of these endpoints (route names) is a business event.
SUCCESS_COUNTS = {
    "create_order": ORDERS_CREATED,
    "pay_order": ORDERS_PAID,
    "cancel_order": ORDERS_CANCELLED,
}
STATUS_COUNTS = {409: CONFLICTS, 412: PRECONDITION_FAILURES}
# The business counts, in the order dashboards show them.
BUSINESS_COUNTS = (
    ORDERS_CREATED,
    ORDERS_PAID,
    ORDERS_CANCELLED,
    IDEMPOTENT_REPLAYS,
    CONFLICTS,
    PRECONDITION_FAILURES,
)
# The header that marks a replayed answer: the routes set it, the middleware reads it.
REPLAYED_HEADER = "Idempotent-Replayed"
