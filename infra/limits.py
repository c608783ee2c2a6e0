"""Where the stack can run, and whether the account has room for its reserved concurrency.

Both are rules AWS applies only once CloudFormation creates the resources, half an hour into a
first deployment; ``infra/preflight.py`` applies them first, in one line each.

- **Partition and region.** The function needs Lambda SnapStart, which is "available in all
  commercial Regions except Asia Pacific (New Zealand) and Asia Pacific (Taipei)" (Lambda
  developer guide, "Improving startup performance with Lambda SnapStart", Supported Regions):
  not in China, GovCloud, ISO or the European Sovereign Cloud, whose partitions are not ``aws``.
  The default identity, a Cognito user pool, does not exist in China either.
- **Reserved concurrency.** Lambda keeps at least 100 of a Region's concurrent executions
  unreserved: "You can reserve up to the Unreserved account concurrency value that is shown,
  minus 100 for functions that don't have reserved concurrency" (Lambda developer guide,
  "Configuring reserved concurrency"). A new account's quota is often 10 or 50, where no
  reservation at all fits.
"""

from __future__ import annotations

from dataclasses import dataclass

PARTITION = "aws"
NO_SNAPSTART = {
    "ap-east-2": "Asia Pacific (Taipei)",
    "ap-southeast-6": "Asia Pacific (New Zealand)",
}
MIN_UNRESERVED = 100
KNOB = "reserved-concurrency"


def region_problem(region: str, partition: str | None) -> str | None:
    """One line on why the stack cannot run in ``region`` (in ``partition``), else None."""
    move = "set AWS_REGION to a commercial AWS Region such as us-east-1 or eu-west-1"
    if partition is None:
        return f"Unknown AWS Region {region!r}: {move}"
    if partition != PARTITION:
        cognito = " and Cognito user pools" if partition == "aws-cn" else ""
        return (
            f"Region {region} is in the {partition} partition, where Lambda SnapStart{cognito} "
            f"(which the stack needs) is not offered; the stack runs in the {PARTITION} "
            f"partition only: {move}"
        )
    if region in NO_SNAPSTART:
        return (
            f"Lambda SnapStart (which the stack needs) is not available in {region} "
            f"({NO_SNAPSTART[region]}): {move}"
        )
    return None


@dataclass(frozen=True, slots=True)
class Concurrency:
    """A Region's Lambda concurrency: the quota, what is unreserved, and this stack's share."""

    quota: int
    unreserved: int
    reserved_here: int  # what the stack's function reserves now (0: not deployed or none)

    def left_after(self, reserved: int) -> int:
        """Unreserved executions once the function reserves ``reserved`` instead."""
        return self.unreserved + self.reserved_here - reserved


def concurrency_problem(reserved: int, found: Concurrency, where: str) -> str | None:
    """One line on why ``reserved`` cannot be reserved (naming the knob), else None."""
    left = found.left_after(reserved)
    if reserved == 0 or left >= MIN_UNRESERVED:
        return None
    room = found.left_after(0) - MIN_UNRESERVED
    fix = f"`-c {KNOB}={room}` or less" if room > 0 else f"`-c {KNOB}=0` (no reservation)"
    return (
        f"{KNOB}={reserved} would leave {left} of the {found.quota} Lambda concurrent "
        f"executions of {where} unreserved, and Lambda keeps at least {MIN_UNRESERVED}: set "
        f'{fix}, or ask AWS for a higher "Concurrent executions" quota (Service Quotas, AWS Lambda)'
    )
