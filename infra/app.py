"""The CDK app (``cdk.json`` runs ``python -m infra.app``): the stage's stack, synthesized."""

from __future__ import annotations

from aws_cdk import App

from infra.stack import build


def main() -> None:
    """Synthesize the stack of the ``stage`` in the CDK context into the cloud assembly."""
    app = App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
