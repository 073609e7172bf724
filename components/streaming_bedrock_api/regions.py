"""Which inference-profile prefix can be called from which AWS region (pure, no Pulumi import).

A cross-region (system-defined) inference profile is called from a *source region*; a geographic profile
(``us.``, ``eu.``, ``apac.``, ``jp.``, ``au.``, ``ca.``, ``us-gov.``) only exists in the source regions of its
geography, and ``global.`` in commercial regions. Calling e.g. ``jp.anthropic...`` from ``us-east-1`` fails on
the first request, so the component checks the pair at preview.

Sources: Bedrock user guide, "Supported Regions and models for inference profiles"
(https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html) and each model's page
(e.g. "Claude Haiku 4.5", model-card-anthropic-claude-haiku-4-5), "Geographic cross-Region inference"
(https://docs.aws.amazon.com/bedrock/latest/userguide/geographic-cross-region-inference.html), "Global
cross-Region inference" (.../global-cross-region-inference.html), and the region lists of the AWS CDK enum
``CrossRegionInferenceProfileRegion`` (aws-cdk ``@aws-cdk/aws-bedrock-alpha``). The exact source regions differ
per model; this table is the union per geography, so it only rejects pairs that can never work.
"""

from __future__ import annotations

# Prefix -> source regions in that geography. Order = how the README table lists them.
PROFILE_SOURCE_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-1", "us-west-2"),
    "ca": ("ca-central-1", "ca-west-1"),
    "eu": ("eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2",
           "eu-west-3"),
    "jp": ("ap-northeast-1", "ap-northeast-3"),
    "au": ("ap-southeast-2", "ap-southeast-4"),
    "apac": ("ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
             "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
             "ap-southeast-7", "me-central-1"),
    "us-gov": ("us-gov-east-1", "us-gov-west-1"),
}
GLOBAL_PREFIX = "global"
# Partitions whose regions cannot call global. profiles (GovCloud, China, ISO).
_NON_COMMERCIAL = ("us-gov-", "cn-", "us-iso", "eu-isoe-")


def profile_prefix(model_id: str) -> str | None:
    """The inference-profile prefix of ``model_id`` ('jp' for 'jp.anthropic...'), or None for a plain model id."""
    head, dot, rest = model_id.partition(".")
    if dot and rest and (head in PROFILE_SOURCE_REGIONS or head == GLOBAL_PREFIX):
        return head
    return None


def prefixes_for_region(region: str) -> tuple[str, ...]:
    """The prefixes callable from ``region``: its geographies first, then 'global' where it applies."""
    fitting = tuple(prefix for prefix, regions in PROFILE_SOURCE_REGIONS.items() if region in regions)
    if not region.startswith(_NON_COMMERCIAL):
        fitting += (GLOBAL_PREFIX,)
    return fitting


def region_mismatch(model_id: str, region: str) -> str | None:
    """None when ``model_id`` can be called from ``region``; otherwise a message naming both and what fits."""
    prefix = profile_prefix(model_id)
    if prefix is None:
        return None
    fitting = prefixes_for_region(region)
    if prefix in fitting:
        return None
    base = model_id.partition(".")[2]
    suggestion = " or ".join(f"'{p}.{base}'" for p in fitting) if fitting else "a model id without a prefix"
    where = "commercial regions" if prefix == GLOBAL_PREFIX else ", ".join(PROFILE_SOURCE_REGIONS[prefix])
    return (
        f"'{model_id}' is a '{prefix}.' inference profile, which can only be called from {where}; the stack's "
        f"region is '{region}'. Use {suggestion}, or deploy to a region of that geography"
    )
