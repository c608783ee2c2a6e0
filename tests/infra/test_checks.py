"""cdk-nag (AwsSolutions) and cfn-lint find nothing left to fix in either stage."""

from __future__ import annotations

import json
import re

from aws_cdk import Validations
from cfnlint.api import ManualArgs, lint

from tests.infra.conftest import Synthesized

# Every acknowledged finding, and where: (rule, construct path below the stack).
EXPECTED_ACKNOWLEDGMENTS = {
    ("AwsSolutions-L1", "Service/Function"),
    ("@aws-cdk/aws-lambda:snapStartRequirePublish", "Service/Function"),
    ("AwsSolutions-APIG4", "Http/Api/ANY--hi"),
    ("AwsSolutions-APIG4", "Http/Api/ANY--health"),
    ("AwsSolutions-APIG4", "Http/Api/ANY--docs"),
    ("AwsSolutions-APIG4", "Http/Api/ANY--openapi.json"),
    ("AwsSolutions-IAM5[Resource::*]", "Service/Role"),  # X-Ray has no resource-level permissions
    (
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSCodeDeployRoleForLambdaLimited]",
        "Deployment/Group/ServiceRole",
    ),
}
# The preflight routes exist only with CORS (prod's test context sets cors-origins).
CORS_ACKNOWLEDGMENTS = {
    ("AwsSolutions-APIG4", "Http/Api/OPTIONS--orders"),
    ("AwsSolutions-APIG4", "Http/Api/OPTIONS--orders--{proxy+}"),
}
COGNITO_ACKNOWLEDGMENTS = {("AwsSolutions-COG2", "Users"), ("AwsSolutions-COG8", "Users")}
# CDK itself adds DependsOn on the function's role next to the GetAtt; nothing else may warn.
TOLERATED_LINT_WARNINGS = {"W3005"}


def test_cdk_nag_reports_no_unacknowledged_finding(stage: Synthesized) -> None:
    # app.synth() raises on any violation (error or warning); the report must also be empty.
    reports = stage.validation_report.get("pluginReports", [])
    violations = [v for report in reports for v in report.get("violations", [])]
    assert violations == []


def test_synthesis_leaves_no_warning_or_error(stage: Synthesized) -> None:
    assert [m for m in stage.messages if m[0] in {"warning", "error"}] == []


def test_every_acknowledgment_is_specific_and_has_a_reason(stage: Synthesized) -> None:
    found = set()
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    prefix = stage.stack.node.path + "/"
    for construct in stage.stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != key:
                continue
            for rule, reason in dict(entry.data).items():
                assert len(reason) > 40, (rule, reason)  # a real reason, not a placeholder
                found.add((rule, construct.node.path.removeprefix(prefix)))
    expected = EXPECTED_ACKNOWLEDGMENTS
    if stage.context["stage"] == "dev":
        expected = expected | COGNITO_ACKNOWLEDGMENTS
    if stage.context.get("cors-origins"):
        expected = expected | CORS_ACKNOWLEDGMENTS
    # "Annotation::@aws-cdk/..." and "AwsSolutions::AwsSolutions-L1" name their source; a
    # granular finding ("AwsSolutions-IAM5[Resource::*]") keeps its own "::".
    rule_ids = {(re.sub(r"^[A-Za-z]+::", "", rule), path) for rule, path in found}
    assert rule_ids == expected


def test_cfn_lint_finds_no_errors(stage: Synthesized) -> None:
    matches = lint(json.dumps(stage.template_json), config=ManualArgs(regions=["us-east-1"]))
    errors = [m for m in matches if m.rule.id.startswith("E")]
    assert errors == []
    warnings = {m.rule.id for m in matches if m.rule.id.startswith("W")}
    assert warnings <= TOLERATED_LINT_WARNINGS
