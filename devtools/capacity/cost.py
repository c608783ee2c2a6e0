"""Monthly charges by line item, as AWS's pricing pages compute them (us-east-1 prices from
``prices.toml``). Each function returns dollars unrounded; AWS's worked examples round each line
to the cent and add the rounded lines (``cents``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from devtools.capacity.prices import Prices

SECONDS_PER_MONTH = 730 * 3600  # the 730-hour month of AWS's pricing calculator
GIB = 1024**3  # CloudWatch Logs bills ingested data by the GB of 2^30 bytes


def cents(dollars: float) -> float:
    """Round half up to the cent, as the pricing examples do."""
    return math.floor(dollars * 100 + 0.5 + 1e-9) / 100


@dataclass(frozen=True, slots=True)
class LambdaBill:
    compute: float
    requests: float

    @property
    def total(self) -> float:
        return round(cents(self.compute) + cents(self.requests), 2)


def lambda_bill(
    requests: float,
    seconds_each: float,
    memory_mb: float,
    *,
    gb_second: float,
    per_million: float,
    free_requests: float = 0,
    free_gb_seconds: float = 0,
) -> LambdaBill:
    """Lambda's compute (GB-seconds: memory/1024 x duration) and request charges for a month
    of ``requests`` invocations of ``seconds_each``, after a free tier if given."""
    gb_seconds = requests * seconds_each * memory_mb / 1024
    return LambdaBill(
        compute=max(0.0, gb_seconds - free_gb_seconds) * gb_second,
        requests=max(0.0, requests - free_requests) / 1e6 * per_million,
    )


def dynamodb_bill(read_units: float, write_units: float, prices: Prices) -> tuple[float, float]:
    """On-demand read and write request charges for a month's request units."""
    return (
        read_units / 1e6 * prices["dynamodb_read_request_unit"],
        write_units / 1e6 * prices["dynamodb_write_request_unit"],
    )


def read_units(item_bytes: int, consistency: str = "strong") -> float:
    """Read request units for one read of an item (4 KB steps): strong 1, eventual 1/2,
    transactional 2 per step (on-demand pricing page, "Key terms")."""
    steps = max(1, math.ceil(item_bytes / 4096))
    return steps * {"strong": 1.0, "eventual": 0.5, "transactional": 2.0}[consistency]


def write_units(item_bytes: int, transactional: bool = False) -> float:
    """Write request units for one write of an item (1 KB steps; a transactional write 2 per
    step)."""
    steps = max(1, math.ceil(item_bytes / 1024))
    return steps * (2.0 if transactional else 1.0)


def xray_traces(rate: float, prices: Prices) -> float:
    """Traces recorded a second at ``rate`` requests a second under the default sampling rule
    (the first request each second, then a share of the rest)."""
    first = prices["xray_sampled_per_second"]
    return min(rate, first) + max(0.0, rate - first) * prices["xray_sampled_share"]
