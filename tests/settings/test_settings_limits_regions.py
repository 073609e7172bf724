"""The request-size cap that can really reach Lambda, and the inference-profile prefix ↔ region check."""

from __future__ import annotations

import json

import pytest
from streaming_bedrock_api.regions import PROFILE_SOURCE_REGIONS, prefixes_for_region, region_mismatch
from streaming_bedrock_api.settings import (
    LAMBDA_INVOKE_PAYLOAD_BYTES,
    MAX_REQUEST_BYTES_LIMIT,
    SettingsError,
    check_region,
    resolve_settings,
)

HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"


def test_the_cap_is_what_fits_in_a_synchronous_lambda_invocation() -> None:
    assert resolve_settings({"model_id": HAIKU, "max_request_bytes": MAX_REQUEST_BYTES_LIMIT}).max_request_bytes == (
        MAX_REQUEST_BYTES_LIMIT
    )
    # 6 MB was accepted before (the cap was API Gateway's 10 MB) and fails at Lambda; now it fails at preview.
    for too_big in (MAX_REQUEST_BYTES_LIMIT + 1, 6 * 1024 * 1024, 10 * 1024 * 1024):
        with pytest.raises(SettingsError, match=r"max_request_bytes: .*6291456 bytes.*JSON-escaped"):
            resolve_settings({"model_id": HAIKU, "max_request_bytes": too_big})


def test_a_worst_case_body_at_the_cap_still_fits_the_invocation_payload() -> None:
    # A valid JSON body made of the characters JSON escapes again inside the event (one '"' each side and the rest
    # newlines, which are JSON whitespace): its escaped form is twice its size.
    body = '""' + "\n" * (MAX_REQUEST_BYTES_LIMIT - 2)
    assert len(body.encode()) == MAX_REQUEST_BYTES_LIMIT
    headers = {f"X-Header-{i}": "v" * 200 for i in range(45)}  # ~10 KB of headers, API Gateway's limit
    event = {
        "resource": "/stream", "path": "/stream", "httpMethod": "POST", "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
        "requestContext": {"requestId": "x" * 36, "identity": {"sourceIp": "203.0.113.9", "userAgent": "u" * 512}},
        "body": body, "isBase64Encoded": False,
    }
    assert len(json.dumps(event).encode()) <= LAMBDA_INVOKE_PAYLOAD_BYTES


@pytest.mark.parametrize(
    ("model_id", "region"),
    [
        (f"jp.{HAIKU}", "ap-northeast-1"),
        (f"jp.{HAIKU}", "ap-northeast-3"),
        (f"us.{HAIKU}", "us-east-1"),
        (f"us.{HAIKU}", "us-west-2"),
        (f"eu.{HAIKU}", "eu-central-1"),
        (f"au.{HAIKU}", "ap-southeast-2"),
        (f"apac.{HAIKU}", "ap-northeast-1"),
        (f"ca.{HAIKU}", "ca-central-1"),
        (f"global.{HAIKU}", "us-east-1"),
        (f"global.{HAIKU}", "ap-northeast-1"),
        (HAIKU, "us-east-1"),  # a plain model id has no geography to check
        ("amazon.nova-lite-v1:0", "eu-west-1"),
    ],
)
def test_prefixes_that_fit_the_region_pass(model_id: str, region: str) -> None:
    assert region_mismatch(model_id, region) is None


@pytest.mark.parametrize(
    ("model_id", "region", "fits"),
    [
        (f"jp.{HAIKU}", "us-east-1", "'us.anthropic.claude-haiku-4-5-20251001-v1:0' or 'global."),
        (f"us.{HAIKU}", "ap-northeast-1", "'jp.anthropic.claude-haiku-4-5-20251001-v1:0' or 'apac."),
        (f"eu.{HAIKU}", "us-west-2", "'us."),
        (f"au.{HAIKU}", "ap-northeast-1", "'jp."),
        (f"apac.{HAIKU}", "eu-west-1", "'eu."),
        (f"ca.{HAIKU}", "us-east-1", "'us."),
        (f"global.{HAIKU}", "us-gov-west-1", "'us-gov."),
    ],
)
def test_a_prefix_from_another_geography_names_both_and_what_fits(model_id: str, region: str, fits: str) -> None:
    message = region_mismatch(model_id, region)
    assert message is not None
    assert model_id in message and f"'{region}'" in message and fits in message


def test_check_region_names_the_argument() -> None:
    settings = resolve_settings({"model_id": f"jp.{HAIKU}", "additional_model_ids": [f"us.{HAIKU}"]})
    with pytest.raises(SettingsError, match=r"^additional_model_ids: 'us\.anthropic"):
        check_region(settings, "ap-northeast-1")
    with pytest.raises(SettingsError, match=r"^model_id: 'jp\.anthropic.*'us-east-1'"):
        check_region(settings, "us-east-1")


def test_every_geography_lists_its_own_regions() -> None:
    for prefix, regions in PROFILE_SOURCE_REGIONS.items():
        for region in regions:
            assert prefix in prefixes_for_region(region)


def test_max_tokens_above_the_models_output_limit_fails_at_preview() -> None:
    assert resolve_settings({"model_id": f"jp.{HAIKU}", "max_tokens": 64_000}).max_tokens == 64_000
    with pytest.raises(SettingsError, match=r"^max_tokens: 64001 exceeds the output limit of .*\(64000 tokens\)"):
        resolve_settings({"model_id": f"jp.{HAIKU}", "max_tokens": 64_001})
    # Unknown models are not limited here (only the 1..128000 range applies).
    assert resolve_settings({"model_id": "amazon.nova-lite-v1:0", "max_tokens": 100_000}).max_tokens == 100_000
