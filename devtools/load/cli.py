"""``python -m devtools.load URL --rate R --seconds S [--mix ...]``: one bounded run.

Exit status: 0 when the SLO holds, 1 when it does not, 2 when the run is refused (a bad plan,
a non-loopback URL without ``--remote``) or invalid (the generator fell behind).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from devtools.load import report, runtime
from devtools.load.client import Pool
from devtools.load.mix import DEFAULT_MIX, Orders, Requests, new_run_id, parse_mix, seed_orders
from devtools.load.plan import Arrival, Plan, PlanError, arrivals, check_target, is_loopback
from devtools.load.runner import LAG_BOUND, run
from devtools.load.slo import parse_slo


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m devtools.load", description=__doc__)
    p.add_argument("url", help="the API's base URL, e.g. http://127.0.0.1:8000")
    p.add_argument("--rate", type=float, required=True, help="requests per second")
    p.add_argument("--seconds", type=float, required=True, help="how long the schedule runs")
    p.add_argument("--mix", default=DEFAULT_MIX, help=f"route:weight,... (default {DEFAULT_MIX})")
    p.add_argument("--arrival", choices=["constant", "poisson"], default="constant")
    p.add_argument("--ramp", type=float, default=0.0, help="seconds to reach the rate from 0")
    p.add_argument("--max-in-flight", type=int, default=256)
    p.add_argument("--max-requests", type=int, default=0, help="0: rate x seconds")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--slo", help="route:p99_ms[:error_ratio],... over the defaults")
    p.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    p.add_argument("--max-lag-ms", type=float, default=LAG_BOUND * 1000)
    p.add_argument("--out", type=Path, default=Path("var/load"))
    p.add_argument(
        "--remote", action="store_true", help="allow a URL that is not a loopback address"
    )
    return p


def local_token(run_id: str) -> str:
    """A token from the development issuer, which ``make run`` (jwt mode) and ``make gateway``
    trust; ``make run`` in dev mode ignores it."""
    from devtools import dev_issuer

    return dev_issuer.mint(f"load-{run_id}", ttl=3600)


async def execute(args: argparse.Namespace, token: str | None) -> int:
    """Plan, print, seed, run and report; the exit status."""
    check_target(args.url, remote=args.remote)  # before any connection
    local = is_loopback(args.url)
    plan = Plan(
        target=args.url, kind="server" if local else "remote", rate=args.rate,
        seconds=args.seconds, mix=parse_mix(args.mix), arrival=args.arrival,
        ramp_seconds=args.ramp, max_in_flight=args.max_in_flight,
        max_requests=args.max_requests, seed=args.seed,
    )  # fmt: skip
    objectives = parse_slo(args.slo)
    schedule = arrivals(plan)
    consuming = [a.route for a in schedule]
    if token is None and set(plan.mix) != {"hi"}:
        if not local:
            raise PlanError("a deployed API needs TOKEN=<jwt> for its orders routes")
        token = local_token(run_id := new_run_id())
    else:
        run_id = new_run_id()
    print(plan.describe(), flush=True)
    limits = httpx.Limits(
        max_connections=plan.max_in_flight, max_keepalive_connections=plan.max_in_flight
    )
    async with httpx.AsyncClient(base_url=args.url, limits=limits, timeout=args.timeout) as client:
        before = await runtime.read(client) if local else None
        if before is not None:
            plan = dataclasses.replace(plan, kind="gateway")
        print(f"  target kind: {plan.kind}", flush=True)
        seeding = httpx.AsyncClient(
            base_url=args.url, timeout=args.timeout,
            headers={"authorization": f"Bearer {token}"} if token else {},
        )  # fmt: skip
        async with seeding:
            orders = await seed_orders(seeding, consuming) if token else Orders()
        requests = Requests(orders, run_id)
        bearer = {"authorization": f"Bearer {token}"} if token else {}

        def build(arrival: Arrival) -> Any:
            request = requests.build(arrival.route, arrival.index)
            if arrival.route != "hi":  # the greeting is anonymous
                request.headers.update(bearer)
            return request

        print(f"  seeded {orders.total} orders; running {len(schedule)} requests", flush=True)
        async with Pool(args.url, timeout=args.timeout) as pool:
            outcome = await run(
                plan, schedule, pool, build, drain=args.timeout, lag_bound=args.max_lag_ms / 1000
            )
        after = await runtime.read(client) if before is not None else None
    sent = sum(1 for r in outcome.records if r.sent is not None)
    state = runtime.difference(before, after, sent) if before and after else None
    document = report.build(plan, outcome, objectives, state)
    report.write(document, args.out)
    print(summary_line(document, args.out), flush=True)
    return report.exit_code(document)


def summary_line(document: dict[str, Any], out: Path) -> str:
    o = document["overall"]
    verdict = "INVALID" if not document["valid"] else f"SLO {document['slo']['verdict']}"
    return (
        f"{verdict}: offered {o['offered']} sent {o['sent']} completed {o['completed']} "
        f"dropped {o['dropped']}; {o['achieved_rate']:g}/{o['offered_rate']:g} req/s; "
        f"p50 {o['p50']:.1f} p99 {o['p99']:.1f} max {o['max']:.1f} ms (service p50 "
        f"{o['service']['p50']:.1f} ms) → {out}/report.md"
        + ("" if document["valid"] else f"\n{document['invalid_reason']}")
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status."""
    args = parser().parse_args(argv)
    token = os.environ.get("TOKEN") or None
    try:
        return asyncio.run(execute(args, token))
    except PlanError as exc:
        print(f"load: refused: {exc}", file=sys.stderr)
        return 2
