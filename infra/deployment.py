"""Safe deploys: CodeDeploy shifts the ``live`` alias to each new version, and rolls it back.

The stack's ``current_version`` publishes a new version whenever the function changes; with
SnapStart, publishing is when Lambda initializes that version and takes its snapshot, and
CloudFormation finishes the ``AWS::Lambda::Version`` only once the snapshot is ready. Only
then does it update the alias, and that update (``UpdatePolicy: CodeDeployLambdaAliasUpdate``)
is a CodeDeploy deployment: canary or linear in prod, all at once in dev (the ``deployment``
knob). An alarm that fires meanwhile points the alias back at the previous version.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import StageConfig

DEPLOYMENT_CONFIGS = {
    "all-at-once": codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
    "canary-10-5m": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
    "canary-10-10m": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_10_MINUTES,
    "linear-10-1m": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_1_MINUTE,
}


class SafeDeployment(Construct):
    """A CodeDeploy deployment group on ``alias``, rolling back on ``alarms``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        alias: lambda_.Alias,
        alarms: list[cloudwatch.Alarm],
    ) -> None:
        super().__init__(scope, id)
        self.group = codedeploy.LambdaDeploymentGroup(
            self,
            "Group",
            alias=alias,
            deployment_config=DEPLOYMENT_CONFIGS[config.deployment],
            alarms=list(alarms),
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
            ),
        )
        Validations.of(self.group.role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSCodeDeployRoleForLambdaLimited]",
                reason="CodeDeploy's own AWSCodeDeployRoleForLambdaLimited: alias updates, "
                "alarm reads and hook invocations as AWS maintains them for CodeDeploy.",
            )
        )
