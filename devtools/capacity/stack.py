"""The stack's knobs, read from the synthesized template (as ``make synth`` and ``make gateway``
build it): memory, architecture, reserved concurrency, SnapStart, tracing, GREET_DELAY, the
stage's throttles and the table's on-demand maximums."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.contract.environment import env_name
from devtools.gateway.throttle import Limits, StageThrottle
from devtools.lambda_runtime.function import FunctionConfig, synthesized_template, table_ids


@dataclass(frozen=True, slots=True)
class Stack:
    """What the model needs to know of one stage."""

    memory_mb: int
    arm64: bool
    reserved_concurrency: int | None  # None: the account's unreserved pool
    snap_start: bool
    tracing: bool
    greet_delay: float  # seconds
    throttle: StageThrottle
    table_max_read_units: float | None
    table_max_write_units: float | None

    def limits(self, route_key: str) -> Limits | None:
        return self.throttle.limits(route_key)

    def describe(self) -> dict[str, Any]:
        return {
            "memory_mb": self.memory_mb,
            "architecture": "arm64" if self.arm64 else "x86_64",
            "reserved_concurrency": self.reserved_concurrency,
            "snap_start": self.snap_start,
            "tracing": self.tracing,
            "greet_delay_s": self.greet_delay,
            "throttles": self.throttle.describe(),
            "table_max_read_units": self.table_max_read_units,
            "table_max_write_units": self.table_max_write_units,
        }


def from_template(template: Mapping[str, Any]) -> Stack:
    """The knobs of the template's function, stage and table."""
    function = FunctionConfig.from_template(dict(template))
    resources: Mapping[str, Any] = template["Resources"]
    (properties,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"].get("Handler") == function.handler
    ]
    (table_id,) = table_ids(dict(template))
    table = resources[table_id]["Properties"]
    # A Table has OnDemandThroughput; a GlobalTable the write maximum at its top, the read
    # maximum per replica (the one replica here).
    on_demand = dict(table.get("OnDemandThroughput", {}))
    on_demand.update(table.get("WriteOnDemandThroughputSettings", {}))
    for replica in table.get("Replicas", [])[:1]:
        on_demand.update(replica.get("ReadOnDemandThroughputSettings", {}))
    return Stack(
        memory_mb=function.memory_mb,
        arm64=properties.get("Architectures", ["x86_64"]) == ["arm64"],
        reserved_concurrency=function.reserved_concurrency,
        snap_start=function.snap_start,
        tracing=properties.get("TracingConfig", {}).get("Mode") == "Active",
        greet_delay=float(function.variables.get(env_name("greet_delay"), 0)),
        throttle=StageThrottle.from_template(template),
        table_max_read_units=_number(on_demand.get("MaxReadRequestUnits")),
        table_max_write_units=_number(on_demand.get("MaxWriteRequestUnits")),
    )


def synthesized(stage: str, context: Mapping[str, str] | None = None) -> Stack:
    """The stage's knobs from its template, synthesized offline (cached, as ``make gateway``)."""
    return from_template(synthesized_template(stage, context=context))


def _number(raw: Any) -> float | None:
    return float(raw) if isinstance(raw, int | float) and raw > 0 else None
