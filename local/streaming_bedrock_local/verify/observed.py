"""What verify read from AWS, as plain data: the dicts boto3 returned, unchanged, plus what was missing.

The checks read only these types, so tests can build them from moto, from a local stack, or by hand.
``None`` always means "does not exist" (AWS said NotFound); a read that failed for lack of permission never gets
here (the shell raises :class:`~streaming_bedrock_local.verify.results.VerifyUsageError` instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Json = Mapping[str, Any]


@dataclass(frozen=True)
class Expectations:
    """What the stack should look like, from its outputs or from flags (anything unknown is ``None``)."""

    region: str
    api_id: str
    stage_name: str
    path: str
    function_name: str
    log_group_name: str | None = None
    log_retention_days: int | None = None
    model_id: str | None = None  # None: the model the function is configured with (BEDROCK_MODEL_ID)


@dataclass(frozen=True)
class ObservedApi:
    """The REST API: get_rest_api, the streaming resource's methods (get_method, integration included),
    the gateway responses, the stage and what the stage's deployment serves (the stage's export)."""

    rest_api: Json | None
    resource_id: str | None = None
    post: Json | None = None
    options: Json | None = None
    gateway_responses: Mapping[str, Json | None] = field(default_factory=dict)
    stage: Json | None = None
    deployment: Json | None = None
    # The OpenAPI export of the stage with API Gateway's integration extensions: the deployed snapshot.
    deployed: Json | None = None


@dataclass(frozen=True)
class ObservedFunction:
    """The function (get_function_configuration), its resource policy (get_policy, parsed), its role's policy
    documents (inline and attached, parsed) and its log group (describe_log_groups)."""

    configuration: Json | None
    resource_policy: Json | None = None
    role_policies: tuple[tuple[str, Json], ...] = ()
    log_group: Json | None = None


@dataclass(frozen=True)
class ObservedModel:
    """Bedrock's answers about the model: the inference profile or the foundation model, and its availability.

    ``error`` holds the error code when Bedrock refused to describe it (ResourceNotFoundException,
    ValidationException), so the check can name the cause.
    """

    model_id: str
    region: str
    profile: Json | None = None
    foundation_model: Json | None = None
    availability: Json | None = None
    error: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class Observed:
    account: str
    api: ObservedApi
    function: ObservedFunction
    model: ObservedModel | None
