"""The cost arithmetic reproduces AWS's published pricing examples to the cent, and every
price and quota in devtools/capacity/prices.toml carries its source and the date it was read."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from devtools.capacity.cost import cents, dynamodb_bill, lambda_bill, read_units, write_units
from devtools.capacity.prices import Prices

PRICES = Prices.load()


def test_every_figure_names_an_https_source_and_the_date_it_was_read() -> None:
    assert PRICES.region == "us-east-1"
    assert len(PRICES.figures) >= 20
    for name, figure in PRICES.figures.items():
        assert figure.source.startswith("https://"), name
        assert figure.read.year >= 2025, name


def test_a_figure_without_its_date_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text('region = "us-east-1"\n[x]\nvalue = 1\nsource = "https://aws.amazon.com/"\n')
    with pytest.raises(ValueError, match="date it was read"):
        Prices.load(path)
    path.write_text(
        'region = "us-east-1"\n[x]\nvalue = 1\nsource = "a blog"\nread = "2026-01-01"\n'
    )
    with pytest.raises(ValueError, match="https source"):
        Prices.load(path)


def free_tier() -> dict[str, float]:
    return {
        "free_requests": PRICES["lambda_free_requests"],
        "free_gb_seconds": PRICES["lambda_free_gb_seconds"],
    }


def test_lambda_arm64_example_mobile_backend() -> None:
    """https://aws.amazon.com/lambda/pricing/, the mobile application backend example: 3 million
    requests a month of 120 ms at 1,536 MB on Arm: 140,000 billable GB-s → $1.87, 2 million
    billable requests → $0.40, $2.27 a month."""
    bill = lambda_bill(
        3_000_000,
        0.120,
        1536,
        gb_second=PRICES["lambda_arm64_gb_second"],
        per_million=PRICES["lambda_request"],
        **free_tier(),
    )
    assert (cents(bill.compute), cents(bill.requests), bill.total) == (1.87, 0.40, 2.27)


@pytest.mark.parametrize(
    ("memory_mb", "requests", "seconds", "compute", "request_charges", "total"),
    [(512, 3_000_000, 1.0, 18.34, 0.40, 18.74), (128, 30_000_000, 0.2, 5.83, 5.80, 11.63)],
)
def test_lambda_x86_examples(
    memory_mb: int,
    requests: int,
    seconds: float,
    compute: float,
    request_charges: float,
    total: float,
) -> None:
    """https://aws.amazon.com/lambda/pricing/ (the x86 examples 1 and 2, at the page's own
    rounded $0.00001667 per GB-s): 1,100,000 and 350,000 billable GB-s."""
    bill = lambda_bill(
        requests,
        seconds,
        memory_mb,
        gb_second=0.00001667,
        per_million=PRICES["lambda_request"],
        **free_tier(),
    )
    assert (cents(bill.compute), cents(bill.requests), bill.total) == (
        compute,
        request_charges,
        total,
    )


def test_dynamodb_on_demand_request_units_as_the_pricing_page_counts_them() -> None:
    """https://aws.amazon.com/dynamodb/pricing/on-demand/, "Key terms": an 8 KB item costs 2
    read units strongly consistent, 1 eventually consistent, 4 transactional; a 1 KB write 1,
    a 3 KB write 3, a 3 KB transactional write 6."""
    assert [read_units(8192, c) for c in ("strong", "eventual", "transactional")] == [2, 1, 4]
    assert read_units(3500) == 1  # rounded up to the next 4 KB
    assert (write_units(1024), write_units(3072), write_units(3072, transactional=True)) == (
        1,
        3,
        6,
    )


def test_dynamodb_on_demand_month_to_the_cent() -> None:
    """At the page's us-east-1 prices ($0.125 per million read units, $0.625 per million write
    units): 10 million strongly consistent 8 KB reads and 4 million 1 KB writes a month."""
    reads, writes = dynamodb_bill(
        10_000_000 * read_units(8192), 4_000_000 * write_units(1024), PRICES
    )
    assert (cents(reads), cents(writes)) == (2.50, 2.50)
    reads, writes = dynamodb_bill(1_000_000 * read_units(4096, "eventual"), 1_000_000, PRICES)
    assert (cents(reads), cents(writes)) == (0.06, 0.63)  # $0.0625 and $0.625, half up


def test_dynamodb_on_demand_write_traffic_of_aws_own_example_to_the_cent() -> None:
    """AWS's worked example on https://aws.amazon.com/dynamodb/pricing/on-demand/ ("Pricing
    examples", written at the prices before 1 November 2024: $1.25 per million write request
    units): the application writes 42,177,000 items of 1 KB in a 30-day month, and the bill's
    "Write traffic: $52.72". The page cannot be read offline; its text is taken from a copy
    made in October 2024 (https://github.com/isaid22/dynamodb-research, README.md, "On-demand
    Example Bill"), which leaves out the read traffic's inputs, so only the writes are checked.
    At the pinned price of today the same writes cost $26.36."""
    writes = 42_177_000 * write_units(1024)
    name = "dynamodb_write_request_unit"
    before_the_cut = replace(PRICES.figures[name], value=1.25)
    then = Prices(PRICES.region, {**PRICES.figures, name: before_the_cut})
    assert cents(dynamodb_bill(0, writes, then)[1]) == 52.72
    assert cents(dynamodb_bill(0, writes, PRICES)[1]) == 26.36
