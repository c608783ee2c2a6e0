"""CDK glue for the Docker-free bundle: an ``ILocalBundling`` and the Lambda ``Code`` using it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.asset import LAMBDA_ARM64, PROJECT_ROOT, Target, asset_hash, build_bundle

# Never pulled: local bundling always succeeds or raises, so CDK never falls back to Docker.
_UNUSED_IMAGE = "public.ecr.aws/sam/build-python3.13"


@jsii.implements(ILocalBundling)
class UvLocalBundling:
    """Builds the asset on this machine with ``infra.asset.build_bundle`` (no Docker)."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        """Fill ``output_dir`` with the asset. Raises instead of returning False (no Docker)."""
        del image  # Docker bundling's image and options do not apply here
        build_bundle(Path(output_dir), self.target)
        return True


def lambda_code(target: Target = LAMBDA_ARM64) -> lambda_.Code:
    """The function's code asset, hashed from its inputs: unchanged lock + app → same asset."""
    return lambda_.Code.from_asset(
        str(PROJECT_ROOT / "app"),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=asset_hash(target),
        bundling=BundlingOptions(
            image=DockerImage.from_registry(_UNUSED_IMAGE),
            local=UvLocalBundling(target),
        ),
    )
