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

from streaming_bedrock_api.iam import classify_model_id
from streaming_bedrock_api.regions import region_mismatch

from .observed import ObservedModel
from .results import CheckResult, failed, passed

FIRST_TIME_USE = (
    "Anthropic models need the first-time-use form once per account: Bedrock console → Model catalog → the model "
    "→ submit the use-case details (or PutUseCaseForModelAccess)"
)
MARKETPLACE = (
    "the first call of a third-party model subscribes the account through AWS Marketplace: call the model once "
    "with a principal allowed aws-marketplace:Subscribe and aws-marketplace:ViewSubscriptions"
)


def check_region(model: ObservedModel) -> CheckResult:
    """The profile's geography fits the region (the component's own table, ``streaming_bedrock_api.regions``: it
    gives the better message; GetInferenceProfile in the region, read by :func:`check_model`, has the last word)."""
    name, expected = "bedrock.region", f"a model or profile callable from {model.region}"
    mismatch = region_mismatch(model.model_id, model.region)
    found = f"{model.model_id} from {model.region}"
    if mismatch is None:
        return passed(name, expected, found)
    return failed(name, expected, found, mismatch)


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
