"""The local Lambda runtime configures the function from the stack itself.

``devtools.lambda_runtime`` synthesizes the stage with a placeholder code asset (no bundling,
cached): the function it reads from that template must be the one the real synthesis defines.
"""

from __future__ import annotations

from pathlib import Path

from devtools.lambda_runtime import function as local
from devtools.lambda_runtime.function import FunctionConfig, table_ids
from infra.compute import HANDLER
from tests.infra.conftest import Synthesized


def test_the_local_runtime_reads_the_synthesized_function(dev: Synthesized) -> None:
    placeholder = local.synthesize("dev")
    assert local.HANDLER == HANDLER
    assert table_ids(placeholder) == table_ids(dev.template_json)
    (table_id,) = table_ids(dev.template_json)
    names = {table_id: "orders-local"}
    ours = FunctionConfig.from_template(placeholder, names=names)
    assert ours == FunctionConfig.from_template(dev.template_json, names=names)
    assert ours.snap_start
    assert (ours.runtime, ours.memory_mb, ours.timeout) == ("python3.13", 512, 10)
    assert (ours.log_format, ours.application_log_level) == ("JSON", "INFO")
    assert ours.variables == {
        "STORE_URL": "dynamodb://orders-local",
        "IDENTITY_MODE": "gateway",
        "GREET_DELAY": "3",
        "LOG_LEVEL": "INFO",
        "STAGE": "dev",
        "METRICS": "emf",
    }


def test_a_synthesis_is_announced_and_a_cached_template_is_not(tmp_path: Path) -> None:
    """`make gateway` says "synthesizing" when it synthesizes, and nothing when it reuses."""
    said: list[str] = []
    first = local.synthesized_template("dev", cache=tmp_path, announce=said.append)
    assert said == ["synthesizing the dev stack (new or changed sources)..."]
    assert local.synthesized_template("dev", cache=tmp_path, announce=said.append) == first
    assert len(said) == 1
