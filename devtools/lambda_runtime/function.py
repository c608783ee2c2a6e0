"""The function as the stack defines it, read from the synthesized CloudFormation template.

Handler, runtime, memory, timeout, logging configuration, SnapStart and the function's own
environment variables all come from the template, so the local runtime and the stack cannot
drift. ``synthesized_template`` synthesizes the stage in a subprocess, with a placeholder code
asset (no bundling), once per change of the stack's inputs (cached under var/).

``python -m devtools.lambda_runtime.function [stage]`` prints the function's configuration.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from infra.asset import PROJECT_ROOT, exclusive

HANDLER = "app.aws_lambda.handler.handler"  # infra/compute.py (imported there with aws_cdk)
TABLE_TYPES = ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table")
CACHE = PROJECT_ROOT / "var" / "lambda-runtime"
Template = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class FunctionConfig:
    """What Lambda knows about the function (one ``AWS::Lambda::Function`` resource)."""

    name: str
    handler: str
    runtime: str
    memory_mb: int
    timeout: float  # seconds
    variables: dict[str, str]  # the function's own environment variables, resolved
    log_format: str  # "JSON" or "Text"
    application_log_level: str | None
    system_log_level: str | None
    snap_start: bool
    reserved_concurrency: int | None = None  # ReservedConcurrentExecutions; None: unreserved

    @classmethod
    def from_template(
        cls,
        template: Template,
        *,
        handler: str = HANDLER,
        names: Mapping[str, str] | None = None,
    ) -> FunctionConfig:
        """The function with ``handler`` in ``template``; ``names`` gives the physical names
        that ``Ref`` resolves to (by logical id; default: the logical id itself)."""
        resources: dict[str, Any] = template["Resources"]
        (logical_id,) = [
            key
            for key, resource in resources.items()
            if resource["Type"] == "AWS::Lambda::Function"
            and resource["Properties"].get("Handler") == handler
        ]
        properties = resources[logical_id]["Properties"]
        resolve = _Resolver(resources, names or {})
        variables = properties.get("Environment", {}).get("Variables", {})
        logging_config = properties.get("LoggingConfig", {})
        snap_start = properties.get("SnapStart", {}).get("ApplyOn", "None") != "None"
        return cls(
            name=properties.get("FunctionName") or logical_id,
            handler=properties["Handler"],
            runtime=properties["Runtime"],
            memory_mb=int(properties.get("MemorySize", 128)),
            timeout=float(properties.get("Timeout", 3)),
            variables={name: resolve(value) for name, value in variables.items()},
            log_format=logging_config.get("LogFormat", "Text"),
            application_log_level=logging_config.get("ApplicationLogLevel"),
            system_log_level=logging_config.get("SystemLogLevel"),
            snap_start=snap_start,
            reserved_concurrency=properties.get("ReservedConcurrentExecutions"),
        )

    def replace(self, **changes: Any) -> FunctionConfig:
        return dataclasses.replace(self, **changes)


def table_ids(template: Template) -> list[str]:
    """The logical ids of the template's DynamoDB tables."""
    return [k for k, r in template["Resources"].items() if r["Type"] in TABLE_TYPES]


class _Resolver:
    """The few intrinsic functions environment variables use: Ref and Fn::Join."""

    def __init__(self, resources: Mapping[str, Any], names: Mapping[str, str]) -> None:
        self.resources = resources
        self.names = names

    def __call__(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, dict) and list(value) == ["Ref"]:
            logical_id = value["Ref"]
            if logical_id not in self.resources:
                raise ValueError(f"Ref to {logical_id!r}, which is not a resource")
            return self.names.get(logical_id, logical_id)
        if isinstance(value, dict) and list(value) == ["Fn::Join"]:
            separator, parts = value["Fn::Join"]
            return str(separator).join(self(part) for part in parts)
        raise ValueError(f"cannot resolve {value!r} locally")


def synthesized_template(
    stage: str = "dev",
    cache: Path = CACHE,
    *,
    context: Mapping[str, str] | None = None,
    announce: Callable[[str], None] | None = None,
) -> Template:
    """The stage's template, synthesized offline (no asset bundling); cached by input hash.
    ``context`` sets knobs over cdk.json's (as ``cdk synth -c key=value`` does); ``announce`` is
    told before a synthesis, never when the cached template is read."""
    knobs = json.dumps(dict(context or {}), sort_keys=True)
    name = stage if not context else f"{stage}-{hashlib.sha256(knobs.encode()).hexdigest()[:8]}"
    path = cache / f"template-{name}-{_inputs_hash(stage)[:16]}.json"
    with exclusive(cache / f"{path.name}.lock"):
        if not path.exists():
            if announce is not None:
                announce(f"synthesizing the {stage} stack (new or changed sources)...")
            _synthesize_into(path, stage, knobs)
            for stale in cache.glob(f"template-{name}-{'?' * 16}.json"):
                if stale != path:
                    stale.unlink(missing_ok=True)
    template: Template = json.loads(path.read_text())
    return template


def _synthesize_into(path: Path, stage: str, knobs: str) -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "devtools.lambda_runtime.function", "--synth", stage, knobs],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"synthesizing the {stage} stack failed:\n{done.stderr}")
    partial = path.with_suffix(".partial")
    partial.write_text(done.stdout)
    partial.rename(path)


def _inputs_hash(stage: str) -> str:
    digest = hashlib.sha256(stage.encode())
    files = [*sorted((PROJECT_ROOT / "infra").glob("*.py"))]
    files += sorted(p for p in (PROJECT_ROOT / "app").rglob("*.py") if "__pycache__" not in p.parts)
    files += [PROJECT_ROOT / "cdk.json", PROJECT_ROOT / "uv.lock", Path(__file__)]
    for path in files:
        digest.update(f"{path.relative_to(PROJECT_ROOT)}\0".encode() + path.read_bytes())
    return digest.hexdigest()


def synthesize(stage: str, knobs: Mapping[str, str] | None = None) -> Template:
    """Synthesize in this process (imports aws_cdk) with a placeholder asset."""
    from aws_cdk import App
    from aws_cdk import aws_lambda as lambda_

    from infra.stack import build

    context = json.loads((PROJECT_ROOT / "cdk.json").read_text()).get("context", {})
    with tempfile.TemporaryDirectory(prefix="orders-synth-") as tmp:
        placeholder = Path(tmp) / "code"
        placeholder.mkdir()
        (placeholder / "README").write_text("placeholder: the local runtime runs its own asset\n")
        app = App(
            outdir=str(Path(tmp) / "cdk.out"), context={**context, **(knobs or {}), "stage": stage}
        )
        stack = build(app, code=lambda_.Code.from_asset(str(placeholder)))
        template: Template = app.synth().get_stack_by_name(stack.stack_name).template
    return template


def main(argv: list[str]) -> None:
    if argv[:1] == ["--synth"]:  # _synthesize_into's subprocess
        print(json.dumps(synthesize(argv[1], json.loads(argv[2]) if argv[2:] else None)))
        return
    parser = argparse.ArgumentParser(
        prog="python -m devtools.lambda_runtime.function",
        description="Print the function's configuration as the synthesized stack sets it.",
    )
    parser.add_argument(
        "stage", nargs="?", choices=["dev", "prod"], default="dev", help="the stack's stage"
    )
    stage = parser.parse_args(argv).stage
    config = FunctionConfig.from_template(synthesized_template(stage))
    print(json.dumps(dataclasses.asdict(config), indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
