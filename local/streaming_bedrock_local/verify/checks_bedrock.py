"""Bedrock checks (pure): the model or inference profile exists in the stack's region, its geography fits the
region, and the account may use it, with the current remedy when it may not.

Sources: Bedrock user guide, "Supported Regions and models for inference profiles" (a geographic profile works only
from source regions in its geography; ``global.`` from most commercial regions) and "Access Amazon Bedrock
foundation models" (2025 onwards: no model-access page; Anthropic models need the first-time-use form once per
account; a third-party model's first call starts an AWS Marketplace subscription and fails with AccessDenied when
the caller lacks ``aws-marketplace:Subscribe``/``ViewSubscriptions``). Availability fields are those of
``GetFoundationModelAvailability`` in the botocore service model.
"""

from __future__ import annotations

from streaming_bedrock_api.iam import GLOBAL_PROFILE_PREFIX, classify_model_id

from .observed import ObservedModel
from .results import CheckResult, failed, passed

# Region name prefixes of each geography's source regions. A hint for a better message only: the authoritative
# answer is GetInferenceProfile in the stack's region, which the model check reads either way.
PROFILE_SOURCE_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-", "us-west-"),
    "us-gov": ("us-gov-",),
    "eu": ("eu-",),
    "apac": ("ap-",),
    "jp": ("ap-northeast-1", "ap-northeast-3"),
    "au": ("ap-southeast-2", "ap-southeast-4"),
    "ca": ("ca-",),
}
FIRST_TIME_USE = (
    "Anthropic models need the first-time-use form once per account: Bedrock console → Model catalog → the model "
    "→ submit the use-case details (or PutUseCaseForModelAccess)"
)
MARKETPLACE = (
    "the first call of a third-party model subscribes the account through AWS Marketplace: call the model once "
    "with a principal allowed aws-marketplace:Subscribe and aws-marketplace:ViewSubscriptions"
)


def check_region(model: ObservedModel) -> CheckResult:
    name = "bedrock.region"
    target = classify_model_id(model.model_id)
    if target.profile_id is None:
        return passed(name, "a foundation model served in the stack's region", f"{model.model_id} in {model.region}")
    prefix = model.model_id.split(".", 1)[0]
    if prefix == GLOBAL_PROFILE_PREFIX:
        return passed(name, "a global profile (most commercial regions)", f"{prefix}. from {model.region}")
    sources = PROFILE_SOURCE_REGIONS.get(prefix)
    expected = f"a {prefix}. profile used from one of its source regions ({', '.join(sources or ('?',))}*)"
    if sources is None or model.region.startswith(sources):
        return passed(name, expected, f"{prefix}. from {model.region}")
    return failed(
        name,
        expected,
        f"{prefix}. from {model.region}",
        f"deploy the stack in a {prefix} region, or use the profile of {model.region}'s geography (or global.)",
    )


def check_model(model: ObservedModel) -> CheckResult:
    name = "bedrock.model"
    target = classify_model_id(model.model_id)
    kind = "inference profile" if target.profile_id else "foundation model"
    expected = f"{kind} {model.model_id} ACTIVE in {model.region}"
    if model.error is not None:
        return failed(
            name,
            expected,
            f"{model.error}: {model.error_message or 'unknown id'}",
            f"{model.model_id} is not a {kind} in {model.region}: check modelId (`aws bedrock "
            f"list-inference-profiles` / `list-foundation-models` in {model.region}) and run `pulumi up`",
        )
    if target.profile_id is not None:
        status = (model.profile or {}).get("status")
        if status == "ACTIVE":
            return passed(name, expected, f"profile ACTIVE, {len((model.profile or {}).get('models') or [])} regions")
        return failed(name, expected, f"profile status {status}", "choose an ACTIVE inference profile for modelId")
    details = (model.foundation_model or {}).get("modelDetails") or {}
    status = (details.get("modelLifecycle") or {}).get("status")
    streams = details.get("responseStreamingSupported")
    inference = details.get("inferenceTypesSupported") or []
    if status == "ACTIVE" and streams is not False and (not inference or "ON_DEMAND" in inference):
        return passed(name, expected, f"model ACTIVE, streaming {streams}")
    problem = f"lifecycle {status}, streaming {streams}, inference {'/'.join(inference) or '?'}"
    return failed(
        name,
        expected,
        problem,
        "this model cannot be called on demand with streaming here; use an inference profile id "
        f"(e.g. a geography prefix such as us./eu./jp. + {model.model_id}) as modelId",
    )


def check_access(model: ObservedModel) -> CheckResult:
    name = "bedrock.access"
    expected = "authorized, entitled, agreement AVAILABLE, available in the region"
    availability = model.availability
    if availability is None:
        return failed(name, expected, "no availability answer", "check the model id (bedrock.model)")
    problems: list[str] = []
    remedies: list[str] = []
    if availability.get("authorizationStatus") != "AUTHORIZED":
        problems.append(f"authorization {availability.get('authorizationStatus')}")
        remedies.append("an IAM or SCP policy denies this model to the account; allow it for the function's role")
    agreement = (availability.get("agreementAvailability") or {}).get("status")
    entitlement = availability.get("entitlementAvailability")
    if agreement != "AVAILABLE" or entitlement != "AVAILABLE":
        problems.append(f"agreement {agreement}, entitlement {entitlement}")
        is_anthropic = classify_model_id(model.model_id).foundation_model_id.startswith("anthropic.")
        remedies.append(FIRST_TIME_USE if is_anthropic else MARKETPLACE)
        if agreement == "PENDING":
            remedies.append("a PENDING agreement completes within minutes: verify again shortly")
    if availability.get("regionAvailability") != "AVAILABLE":
        problems.append(f"region {availability.get('regionAvailability')}")
        remedies.append(f"the model is not offered in {model.region}: use an inference profile or another region")
    if problems:
        return failed(name, expected, ", ".join(problems), "; ".join(remedies))
    return passed(name, expected, "AUTHORIZED, AVAILABLE")


def bedrock_checks(model: ObservedModel) -> list[CheckResult]:
    results = [check_region(model), check_model(model)]
    if model.error is None:
        results.append(check_access(model))
    return results
