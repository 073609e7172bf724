"""The Lambda half of the component: execution role, log group and the streaming function.

The function runs on a managed Python runtime; ``AWS_LAMBDA_EXEC_WRAPPER`` (set in its environment) starts our own
Runtime API loop, which streams. Its code is the deterministic zip from :mod:`packaging`, so an unchanged
``function/`` never shows a diff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from . import iam
from .packaging import HANDLER, build_function_zip
from .settings import Settings, function_environment

RUNTIME = "python3.13"
XRAY_WRITE_POLICY = "arn:{partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"


@dataclass(frozen=True)
class StackContext:
    """Region, account and partition of the stack, as outputs of provider invokes."""

    region: pulumi.Output[str]
    account: pulumi.Output[str]
    partition: pulumi.Output[str]


@dataclass(frozen=True)
class FunctionResources:
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    function: aws.lambda_.Function


def stack_context(parent: pulumi.Resource) -> StackContext:
    """Look up region, account and partition through the (possibly explicit) provider of ``parent``."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    region = aws.get_region_output(opts=opts)
    identity = aws.get_caller_identity_output(opts=opts)
    partition = aws.get_partition_output(opts=opts)
    return StackContext(
        region=region.region,
        account=identity.account_id,
        partition=partition.partition,
    )


def create_function(
    name: str,
    settings: Settings,
    context: StackContext,
    parent: pulumi.Resource,
    extra_environment: Mapping[str, pulumi.Input[str]] | None = None,
) -> FunctionResources:
    """Create the role (trust + own log group + Bedrock), the log group and the function.

    ``extra_environment`` adds variables known only after other resources exist (e.g. the API key ids)."""
    opts = pulumi.ResourceOptions(parent=parent)
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name_prefix=f"/aws/lambda/{name}-",
        retention_in_days=settings.log_retention_days,
        opts=opts,
    )
    role = aws.iam.Role(
        f"{name}-role",
        assume_role_policy=iam.to_json(iam.lambda_trust_policy()),
        description="Execution role of the StreamingBedrockApi function",
        opts=opts,
    )
    aws.iam.RolePolicy(
        f"{name}-logging",
        role=role.id,
        policy=log_group.arn.apply(lambda arn: iam.to_json(iam.logging_policy_document(arn))),
        opts=opts,
    )
    model_ids = settings.model_ids
    bedrock_policy = pulumi.Output.all(context.region, context.account, context.partition).apply(
        lambda values: iam.to_json(
            iam.bedrock_policy_document(model_ids, values[0], values[1], values[2], settings.guardrail)
        )
    )
    bedrock_role_policy = aws.iam.RolePolicy(f"{name}-bedrock", role=role.id, policy=bedrock_policy, opts=opts)
    depends: list[pulumi.Resource] = [bedrock_role_policy, log_group]
    tracing_config: aws.lambda_.FunctionTracingConfigArgs | None = None
    if settings.tracing:
        xray = aws.iam.RolePolicyAttachment(
            f"{name}-xray",
            role=role.name,
            policy_arn=context.partition.apply(lambda partition: XRAY_WRITE_POLICY.format(partition=partition)),
            opts=opts,
        )
        depends.append(xray)
        tracing_config = aws.lambda_.FunctionTracingConfigArgs(mode="Active")

    archive = build_function_zip()
    guardrail_arn: dict[str, pulumi.Input[str]] = {}
    if settings.guardrail is not None:
        # The function names the guardrail by its full ARN: the role's bedrock:GuardrailIdentifier condition is
        # "<ARN>:<version>" (iam.require_guardrail), and the ARN leaves no doubt that a call matches it, whereas
        # the Bedrock user guide ("Enforce the use of specific guardrails...") only shows ARN-valued conditions.
        spec = settings.guardrail
        guardrail_arn["GUARDRAIL_IDENTIFIER"] = pulumi.Output.all(
            context.region, context.account, context.partition
        ).apply(lambda values: spec.arn(values[0], values[1], values[2]))
    function = aws.lambda_.Function(
        f"{name}-fn",
        description="Relays Amazon Bedrock ConverseStream output through API Gateway response streaming",
        runtime=RUNTIME,
        architectures=[settings.architecture],
        handler=HANDLER,
        role=role.arn,
        code=pulumi.FileArchive(str(archive)),
        memory_size=settings.memory_size,
        timeout=settings.timeout_seconds,
        environment=aws.lambda_.FunctionEnvironmentArgs(
            variables={**function_environment(settings), **guardrail_arn, **(extra_environment or {})}
        ),
        reserved_concurrent_executions=settings.reserved_concurrency,
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=log_group.name),
        tracing_config=tracing_config,
        # Policies first: the first cold start must be able to log and to call Bedrock.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends),
    )
    return FunctionResources(role=role, log_group=log_group, function=function)
