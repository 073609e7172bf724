"""The Bedrock IAM rule also sees AWS managed policies attached to a role, user or group.

Attaching AmazonBedrockFullAccess is the usual quick fix for an AccessDenied from Bedrock; it grants bedrock:* on
every resource just like an inline ``bedrock:*`` statement, so the pack must refuse it too.
"""

from __future__ import annotations

import pytest

from policy import streaming_policies as sp
from tests.policy.conftest import UNKNOWN, run_resource_policy

ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
GROUP_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"


@pytest.mark.parametrize("resource_type", [ROLE_ATTACHMENT, USER_ATTACHMENT, GROUP_ATTACHMENT, POLICY_ATTACHMENT])
@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/AmazonBedrockFullAccess",
        "arn:aws-us-gov:iam::aws:policy/AmazonBedrockFullAccess",
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/PowerUserAccess",
    ],
)
def test_broad_managed_policy_attachments_are_refused(resource_type: str, arn: str) -> None:
    recorded = run_resource_policy(sp.iam_bedrock_scope, resource_type, {"policyArn": arn}, "fn-bedrock")
    assert len(recorded.violations) == 1, recorded.messages
    message = recorded.messages[0]
    assert "'fn-bedrock'" in message and arn.rsplit("/", 1)[1] in message and "bedrock:*" in message


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
        # A customer policy of the same name is the customer's document, checked where it is defined.
        "arn:aws:iam::123456789012:policy/AmazonBedrockFullAccess",
    ],
)
def test_other_attachments_pass(arn: str) -> None:
    recorded = run_resource_policy(sp.iam_bedrock_scope, ROLE_ATTACHMENT, {"policyArn": arn})
    assert recorded.violations == [] and recorded.unknown is None


def test_role_managed_policy_arns_are_checked() -> None:
    good = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    bad = "arn:aws:iam::aws:policy/AmazonBedrockFullAccess"
    assert run_resource_policy(sp.iam_bedrock_scope, sp.IAM_ROLE, {"managedPolicyArns": [good]}).violations == []
    recorded = run_resource_policy(sp.iam_bedrock_scope, sp.IAM_ROLE, {"managedPolicyArns": [good, bad]}, "fn-role")
    assert len(recorded.violations) == 1 and "IAM role 'fn-role'" in recorded.messages[0]


def test_unknown_policy_arn_is_undecided_not_passed() -> None:
    recorded = run_resource_policy(sp.iam_bedrock_scope, ROLE_ATTACHMENT, {"policyArn": UNKNOWN})
    assert recorded.violations == [] and recorded.unknown is not None
