"""API keys through a Lambda REQUEST authorizer (auth ``api_key``), so Bearer keys count against usage plans.

OpenAI clients send their key as ``Authorization: Bearer <key>``; API Gateway reads API keys only from
``x-api-key``, unless the REST API's ``apiKeySource`` is ``AUTHORIZER``: then a Lambda authorizer returns the key as
``usageIdentifierKey`` and API Gateway enforces it, its usage plan, throttle and quota as before (API Gateway
developer guide, "Choose an API key source"). ``apiKeySource`` is API-wide, so the native route goes through the
authorizer too, with its ``x-api-key`` header.

Identity sources and caching: a REQUEST authorizer with a result TTL above 0 needs identity sources, is cached per
their values, and API Gateway answers 401 without calling the authorizer when one is missing (developer guide,
"Lambda authorizer", identity sources). One identity source naming both headers would require both on every
request, so there are two authorizers over the same function: one on the OpenAI routes with
``Authorization``, one on the native route with ``x-api-key``. The function reads the same header its authorizer
caches on (see ``authorizer_source/key_authorizer.py``), so a cached result always belongs to the key that made it.
"""

from __future__ import annotations

import hashlib
import io
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from . import api_config, iam
from .settings import Settings

SOURCE_DIR = Path(__file__).resolve().parent / "authorizer_source"
SOURCE_FILE = "key_authorizer.py"
HANDLER = "key_authorizer.handler"
RUNTIME = "python3.13"
MEMORY_MB = 128
TIMEOUT_S = 5
_FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Authorizers:
    native: aws.apigateway.Authorizer
    openai: aws.apigateway.Authorizer | None
    function: aws.lambda_.Function


def authorizer_zip_bytes() -> bytes:
    """A byte-reproducible zip holding only the authorizer's one source file (no dependencies)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo(SOURCE_FILE, date_time=_FIXED_TIMESTAMP)
        info.create_system = 3
        info.external_attr = (stat.S_IFREG | 0o644) << 16
        archive.writestr(info, (SOURCE_DIR / SOURCE_FILE).read_bytes())
    return buffer.getvalue()


def build_authorizer_zip() -> Path:
    data = authorizer_zip_bytes()
    target_dir = Path(tempfile.gettempdir()) / "streaming-bedrock-api"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"authorizer-{hashlib.sha256(data).hexdigest()[:16]}.zip"
    if not target.exists():
        partial = target.with_suffix(f".{id(data)}.partial")
        partial.write_bytes(data)
        partial.replace(target)
    return target


def create_authorizers(
    name: str, settings: Settings, rest_api: aws.apigateway.RestApi, parent: pulumi.Resource
) -> Authorizers:
    """The authorizer function (own role and log group), its invoke permission and the two authorizers."""
    opts = pulumi.ResourceOptions(parent=parent)
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-authorizer-logs",
        name_prefix=f"/aws/lambda/{name}-authorizer-",
        retention_in_days=settings.log_retention_days,
        opts=opts,
    )
    role = aws.iam.Role(
        f"{name}-authorizer-role",
        assume_role_policy=iam.to_json(iam.lambda_trust_policy()),
        description="Execution role of the StreamingBedrockApi API key authorizer (logs only)",
        opts=opts,
    )
    logging = aws.iam.RolePolicy(
        f"{name}-authorizer-log-policy",
        role=role.id,
        policy=log_group.arn.apply(lambda arn: iam.to_json(iam.logging_policy_document(arn))),
        opts=opts,
    )
    function = aws.lambda_.Function(
        f"{name}-authorizer-fn",
        description="Reads the client's API key (Bearer or x-api-key) for API Gateway usage plans",
        runtime=RUNTIME,
        architectures=[settings.architecture],
        handler=HANDLER,
        role=role.arn,
        code=pulumi.FileArchive(str(build_authorizer_zip())),
        memory_size=MEMORY_MB,
        timeout=TIMEOUT_S,
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=log_group.name),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[logging, log_group]),
    )

    def authorizer(suffix: str, identity_source: str) -> aws.apigateway.Authorizer:
        return aws.apigateway.Authorizer(
            f"{name}-{suffix}",
            rest_api=rest_api.id,
            type="REQUEST",
            authorizer_uri=function.invoke_arn,
            identity_source=identity_source,
            authorizer_result_ttl_in_seconds=api_config.AUTHORIZER_TTL_SECONDS,
            opts=opts,
        )

    native = authorizer("key-authorizer", api_config.NATIVE_IDENTITY_SOURCE)
    openai = authorizer("bearer-authorizer", api_config.OPENAI_IDENTITY_SOURCE) if settings.openai_routes else None
    aws.lambda_.Permission(
        f"{name}-authorizer-permission",
        action="lambda:InvokeFunction",
        function=function.name,
        principal="apigateway.amazonaws.com",
        # Any authorizer of this API (arn:...:{apiId}/authorizers/{authorizerId}).
        source_arn=rest_api.execution_arn.apply(lambda arn: f"{arn}/authorizers/*"),
        opts=opts,
    )
    return Authorizers(native=native, openai=openai, function=function)
