"""Safe deploys: CodeDeploy shifts the ``live`` alias to each new version, and rolls it back.

The stack's ``current_version`` publishes a new version whenever the function changes; with
SnapStart, publishing is when Lambda initializes that version and takes its snapshot, and
CloudFormation finishes the ``AWS::Lambda::Version`` only once the snapshot is ready. Only
then does it update the alias, and that update (``UpdatePolicy: CodeDeployLambdaAliasUpdate``)
is a CodeDeploy deployment: canary or linear in prod, all at once in dev (the ``deployment``
knob). An alarm that fires meanwhile points the alias back at the previous version.

The rollback alarms judge the new version on what it does itself: its own errors and duration
(``ExecutedVersion`` metrics of the alias) and the API's 5xx share. A canary keeps the new version
on 10 % of the traffic for 10 minutes: with 1-minute periods an alarm needs 2 to 3 of them plus
the metrics' delay of a few minutes, which a 5-minute canary does not leave. All at once (dev's
default) moves every request at once, so no alarm can evaluate the new version before the
deployment ends: there, alarms page but never roll back.
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
    "canary-10-10m": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_10_MINUTES,
    "canary-10-15m": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_15_MINUTES,
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
        canary_alarms: list[cloudwatch.Alarm],
    ) -> None:
        super().__init__(scope, id)
        # The per-version alarms follow the version being deployed: CloudFormation must update
        # them before the alias update starts the CodeDeploy deployment they judge.
        for alarm in canary_alarms:
            alias.node.add_dependency(alarm)
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
