"""The boto3 shell: reads the deployed resources with read-only calls and returns :mod:`.observed` data.

Every botocore error ends here. "Does not exist" becomes ``None`` (the checks then say what is missing); missing,
expired or unrecognised credentials, and AccessDenied on a read, become :class:`VerifyUsageError` with what to do
(exit code 2): a verifier that cannot look must not report the stack as broken, nor print a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import unquote

import boto3
import botocore.exceptions
from botocore.config import Config
from streaming_bedrock_api.api_config import GATEWAY_RESPONSE_TYPES
from streaming_bedrock_api.iam import classify_model_id

from .observed import Expectations, Json, Observed, ObservedApi, ObservedFunction, ObservedModel
from .results import VerifyUsageError

T = TypeVar("T")
MODEL_ENV = "BEDROCK_MODEL_ID"
NOT_FOUND = frozenset({"NotFoundException", "ResourceNotFoundException", "NoSuchEntity", "NoSuchEntityException"})
EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"})
UNRECOGNISED = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "AuthFailure",
        "MissingAuthenticationToken",
    }
)
DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden", "ForbiddenException"}
)
# Model ids Bedrock does not know, or that are not valid here, are check failures, not usage errors.
UNKNOWN_MODEL = frozenset({"ResourceNotFoundException", "ValidationException"})
# IAM action prefix per boto3 service name (API Gateway's actions are HTTP verbs on resource paths).
IAM_PREFIX = {
    "apigateway": "apigateway",
    "lambda": "lambda",
    "iam": "iam",
    "logs": "logs",
    "bedrock": "bedrock",
    "sts": "sts",
}
REFRESH = "refresh them (`aws sso login`, a new session token, or new keys) and run verify again"


def credential_problem(service: str, operation: str, code: str, message: str) -> str | None:
    """The usage-error message for an AWS error code that means "you cannot look", else None (pure)."""
    if code in EXPIRED:
        return f"the AWS credentials have expired ({code}): {REFRESH}"
    if code in UNRECOGNISED:
        return (
            f"AWS does not accept these credentials ({code}: {message}): check AWS_PROFILE / the access key, {REFRESH}"
        )
    if code in DENIED:
        action = "apigateway:GET" if service == "apigateway" else f"{IAM_PREFIX.get(service, service)}:{operation}"
        return (
            f"the credentials may not call {action} ({code}); verify only reads: grant the read-only permissions "
            "listed in the README's deploy section and run it again"
        )
    return None


def _error_code(error: botocore.exceptions.ClientError) -> tuple[str, str]:
    details = error.response.get("Error", {})
    return str(details.get("Code", "")), str(details.get("Message", ""))


class AwsRefusal(Exception):
    """An error code the caller asked to handle itself (see ``tolerate``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def call(
    service: str,
    operation: Callable[..., T],
    *,
    missing_ok: bool = True,
    tolerate: frozenset[str] = frozenset(),
    **kwargs: Any,
) -> T | None:
    """Run one read; None when the resource does not exist; VerifyUsageError when we cannot look.

    Codes in ``tolerate`` raise :class:`AwsRefusal` for the caller to turn into a check result.
    """
    name = getattr(operation, "__name__", "call")
    try:
        return operation(**kwargs)
    except botocore.exceptions.ClientError as error:
        code, message = _error_code(error)
        if code in tolerate:
            raise AwsRefusal(code, message) from None
        if code in NOT_FOUND and missing_ok:
            return None
        problem = credential_problem(service, error.operation_name or name, code, message)
        raise VerifyUsageError(
            problem or f"AWS answered {code} to {service} {error.operation_name}: {message}"
        ) from None
    except botocore.exceptions.NoCredentialsError:
        raise VerifyUsageError(
            "no AWS credentials found: set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`"
        ) from None
    except (botocore.exceptions.TokenRetrievalError, botocore.exceptions.SSOTokenLoadError) as error:
        raise VerifyUsageError(
            f"the AWS SSO session has expired or is missing ({error}): run `aws sso login`"
        ) from None
    except botocore.exceptions.CredentialRetrievalError as error:
        raise VerifyUsageError(f"AWS credentials could not be loaded ({error}): {REFRESH}") from None
    except botocore.exceptions.EndpointConnectionError as error:
        raise VerifyUsageError(f"cannot reach AWS ({error}): check the network and --region") from None
    except botocore.exceptions.BotoCoreError as error:
        raise VerifyUsageError(f"{service}: {error}") from None


def _document(value: Any) -> Json:
    # IAM policy documents arrive as dicts (botocore decodes them) or as URL-encoded JSON text.
    if isinstance(value, Mapping):
        return value
    text = str(value)
    parsed = json.loads(unquote(text) if text.startswith("%") else text)
    return parsed if isinstance(parsed, Mapping) else {}


class AwsReader:
    """Read-only access to one stack's resources in one region."""

    def __init__(self, session: boto3.Session, region: str, progress: Callable[[str], None] = lambda _: None) -> None:
        self.region = region
        self.progress = progress
        self._session = session
        self._config = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=10, read_timeout=30)

    def client(self, service: str) -> Any:
        try:
            return self._session.client(service, region_name=self.region, config=self._config)
        except botocore.exceptions.BotoCoreError as error:
            raise VerifyUsageError(f"cannot create a {service} client: {error}") from None

    def account(self) -> str:
        identity = call("sts", self.client("sts").get_caller_identity, missing_ok=False)
        return str((identity or {}).get("Account", ""))

    def api(self, exp: Expectations) -> ObservedApi:
        self.progress("reading API Gateway")
        client = self.client("apigateway")
        rest_api = call("apigateway", client.get_rest_api, restApiId=exp.api_id)
        if rest_api is None:
            return ObservedApi(rest_api=None)
        resource_id = None
        for page in client.get_paginator("get_resources").paginate(restApiId=exp.api_id):
            for item in page.get("items", []):
                if item.get("path") == f"/{exp.path}":
                    resource_id = item["id"]
        methods: dict[str, Json | None] = {"POST": None, "OPTIONS": None}
        if resource_id is not None:
            for verb in methods:
                methods[verb] = call(
                    "apigateway", client.get_method, restApiId=exp.api_id, resourceId=resource_id, httpMethod=verb
                )
        responses = {
            kind: call("apigateway", client.get_gateway_response, restApiId=exp.api_id, responseType=kind)
            for kind in GATEWAY_RESPONSE_TYPES
        }
        stage = call("apigateway", client.get_stage, restApiId=exp.api_id, stageName=exp.stage_name)
        deployment = deployed = None
        if stage is not None and stage.get("deploymentId"):
            deployment = call(
                "apigateway", client.get_deployment, restApiId=exp.api_id, deploymentId=stage["deploymentId"]
            )
            export = call(
                "apigateway",
                client.get_export,
                restApiId=exp.api_id,
                stageName=exp.stage_name,
                exportType="oas30",
                parameters={"extensions": "integrations"},
                accepts="application/json",
            )
            if export is not None:
                deployed = json.loads(export["body"].read() or b"{}")
        return ObservedApi(
            rest_api=rest_api,
            resource_id=resource_id,
            post=methods["POST"],
            options=methods["OPTIONS"],
            gateway_responses=responses,
            stage=stage,
            deployment=deployment,
            deployed=deployed,
        )

    def function(self, exp: Expectations) -> ObservedFunction:
        self.progress("reading Lambda, IAM and CloudWatch Logs")
        lambda_client = self.client("lambda")
        config = call("lambda", lambda_client.get_function_configuration, FunctionName=exp.function_name)
        if config is None:
            return ObservedFunction(configuration=None)
        policy = call("lambda", lambda_client.get_policy, FunctionName=exp.function_name)
        return ObservedFunction(
            configuration=config,
            resource_policy=json.loads(policy["Policy"]) if policy else None,
            role_policies=self._role_policies(str(config.get("Role", ""))),
            log_group=self._log_group(exp.log_group_name) if exp.log_group_name else None,
        )

    def _role_policies(self, role_arn: str) -> tuple[tuple[str, Json], ...]:
        iam = self.client("iam")
        role = role_arn.rsplit("/", 1)[-1]
        documents: list[tuple[str, Json]] = []
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role):
            for name in page.get("PolicyNames", []):
                inline = call("iam", iam.get_role_policy, RoleName=role, PolicyName=name)
                if inline is not None:
                    documents.append((f"inline policy {name}", _document(inline["PolicyDocument"])))
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
            for attached in page.get("AttachedPolicies", []):
                policy = call("iam", iam.get_policy, PolicyArn=attached["PolicyArn"])
                if policy is None:
                    continue
                version = call(
                    "iam",
                    iam.get_policy_version,
                    PolicyArn=attached["PolicyArn"],
                    VersionId=policy["Policy"]["DefaultVersionId"],
                )
                if version is not None:
                    documents.append(
                        (f"managed policy {attached['PolicyName']}", _document(version["PolicyVersion"]["Document"]))
                    )
        return tuple(documents)

    def _log_group(self, name: str) -> Json | None:
        logs = self.client("logs")
        answer = call("logs", logs.describe_log_groups, logGroupNamePrefix=name) or {}
        return next((group for group in answer.get("logGroups", []) if group.get("logGroupName") == name), None)

    def model(self, model_id: str) -> ObservedModel:
        self.progress(f"reading Bedrock ({model_id})")
        bedrock = self.client("bedrock")
        target = classify_model_id(model_id)
        try:
            if target.profile_id is not None:
                profile = call(
                    "bedrock",
                    bedrock.get_inference_profile,
                    tolerate=UNKNOWN_MODEL,
                    inferenceProfileIdentifier=model_id,
                )
                found = ObservedModel(model_id, self.region, profile=profile)
            else:
                model = call("bedrock", bedrock.get_foundation_model, tolerate=UNKNOWN_MODEL, modelIdentifier=model_id)
                found = ObservedModel(model_id, self.region, foundation_model=model)
        except AwsRefusal as refusal:
            return ObservedModel(model_id, self.region, error=refusal.code, error_message=refusal.message)
        try:
            availability = call(
                "bedrock",
                bedrock.get_foundation_model_availability,
                tolerate=UNKNOWN_MODEL,
                modelId=target.foundation_model_id,
            )
        except AwsRefusal:
            availability = None  # the access check reports it
        return ObservedModel(
            model_id,
            self.region,
            profile=found.profile,
            foundation_model=found.foundation_model,
            availability=availability,
        )


def read_observed(reader: AwsReader, exp: Expectations) -> tuple[Observed, str | None]:
    """Everything the configuration checks need, and the model id they check (None without a function)."""
    account = reader.account()
    api = reader.api(exp)
    function = reader.function(exp)
    model_id = exp.model_id or function_model(function.configuration)
    model = reader.model(model_id) if model_id else None
    return Observed(account=account, api=api, function=function, model=model), model_id


def function_model(configuration: Json | None) -> str | None:
    value = (((configuration or {}).get("Environment") or {}).get("Variables") or {}).get(MODEL_ENV)
    return str(value) if value else None
