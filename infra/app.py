"""The CDK app (``cdk.json`` runs ``python -m infra.app``): the stage's stack, synthesized."""

from __future__ import annotations

from aws_cdk import App

from infra.stack import build

app = App()
build(app)
app.synth()
