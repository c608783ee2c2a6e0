"""Session fixtures: each stage is synthesized once (synthesis and bundling are slow)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import infra  # noqa: F401 - points jsii at the project's pinned Node before aws_cdk starts it

ROOT = Path(__file__).resolve().parents[2]
# What `cdk synth` starts from (the feature flags): the stage's context is laid over it.
CDK_JSON_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]


# The prod synthesis also exercises the context knobs: an existing OIDC issuer instead of
# Cognito, CORS origins, throttling, memory, greeting delay, alarms and capacity limits.
PROD_CONTEXT: dict[str, Any] = {
    "stage": "prod",
    "oidc-issuer": "https://login.example.com/realms/orders",
    "oidc-audience": "orders-api,orders-cli",
    "cors-origins": ["https://app.example.com", "https://admin.example.com"],
    "throttle-rate": "20",
    "throttle-burst": 40,
    "memory-mb": 1024,
    "greet-delay": "12.5",
    "alarm-email": "oncall@example.com",
    "alarm-latency-p99-ms": "15000",  # above the greeting delay
    "reserved-concurrency": 50,
    "table-max-read-units": "3000",
}


@dataclass(frozen=True)
class Synthesized:
    """One stage's synthesis: its template (parsed), the stack and the cloud assembly dir."""

    context: dict[str, Any]
    stack: Any  # infra.stack.OrdersApiStack (typed loosely: aws_cdk imports lazily)
    template_json: dict[str, Any]
    outdir: Path
    validation_report: dict[str, Any]
    messages: list[tuple[str, str]]  # (level, text) of the stack's synthesis messages
    artifact: Any  # the stack's aws_cdk.cx_api.CloudFormationStackArtifact: what the CLI deploys

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template_json["Resources"].items() if v["Type"] == kind}

    def only(self, kind: str) -> tuple[str, dict[str, Any]]:
        (item,) = self.resources(kind).items()
        return item

    def asset_dirs(self) -> list[Path]:
        """The file assets (zip packaging) the stack's asset manifest lists."""
        manifest = json.loads((self.outdir / f"{self.stack.stack_name}.assets.json").read_text())
        return [self.outdir / f["source"]["path"] for f in manifest["files"].values()
                if f["source"].get("packaging") == "zip"]  # fmt: skip


@pytest.fixture(scope="session")
def cdk_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Shared by both stages: the second synthesis finds the (custom-hashed) asset staged.
    return tmp_path_factory.mktemp("cdk.out")


def _synthesizer(outdir: Path) -> Callable[[dict[str, Any]], Synthesized]:
    def synth(context: dict[str, Any]) -> Synthesized:
        from aws_cdk import App

        from infra.stack import build

        app = App(outdir=str(outdir), context={**CDK_JSON_CONTEXT, **context})
        stack = build(app)
        assembly = app.synth()  # raises when a cdk-nag violation is not acknowledged
        artifact = assembly.get_stack_by_name(stack.stack_name)
        template = artifact.template
        messages = [(str(m.level.value), str(m.entry.data)) for m in artifact.messages]
        report_file = outdir / "validation-report.json"
        report = json.loads(report_file.read_text()) if report_file.exists() else {}
        return Synthesized(context, stack, template, outdir, report, messages, artifact)

    return synth


@pytest.fixture(scope="session")
def dev(cdk_outdir: Path) -> Synthesized:
    return _synthesizer(cdk_outdir)({"stage": "dev"})


@pytest.fixture(scope="session")
def prod(cdk_outdir: Path, dev: Synthesized) -> Synthesized:
    del dev  # synthesized first, so that prod reuses its staged asset
    return _synthesizer(cdk_outdir)(PROD_CONTEXT)


@pytest.fixture(scope="session", params=["dev", "prod"])
def stage(request: pytest.FixtureRequest) -> Synthesized:
    synthesized: Synthesized = request.getfixturevalue(request.param)
    return synthesized
