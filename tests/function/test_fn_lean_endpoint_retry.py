"""Endpoints, credentials and retry decisions of the lean client, against botocore (the oracle).

Endpoints: botocore resolves the bedrock-runtime rule set for the same environment (region, FIPS, dual-stack,
configured URLs); the request it would send is captured in ``before-send`` and never leaves the process.
Retries: botocore's own standard-mode checkers decide on the same (attempt, status, code) contexts.
"""

from __future__ import annotations

import datetime
import json
from typing import Any
from unittest import mock

import botocore.auth
import botocore.session
import pytest
from bedrock_stream.aws_env import endpoint_url, env_credentials, lean_unsupported, resolve_endpoint
from bedrock_stream.converse_protocol import build_request, request_body
from bedrock_stream.retry_policy import Outcome, backoff_seconds, is_retryable, is_throttling
from bedrock_stream.sigv4 import Credentials
from botocore.retries import standard

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
ARGS: dict[str, Any] = {"modelId": MODEL, "messages": [{"role": "user", "content": [{"text": "hi"}]}],
                        "inferenceConfig": {"maxTokens": 5}, "additionalModelRequestFields": {"k": [1, None]}}
WHEN = datetime.datetime(2026, 12, 1, 21, 0, 0)


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        self.request = request


def botocore_request(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Any:
    """The request botocore would send for ARGS in ``env`` (captured before sending)."""
    for name in ("AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_ENDPOINT_URL",
                 "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = botocore.session.Session().create_client(
        "bedrock-runtime", region_name=env["AWS_REGION"], aws_access_key_id="AKIDX", aws_secret_access_key="s",
        aws_session_token="tok")

    def capture(request: Any, **_: Any) -> None:
        raise _Captured(request)

    client.meta.events.register("before-send.bedrock-runtime.ConverseStream", capture)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=WHEN), \
            pytest.raises(_Captured) as captured:
        client.converse_stream(**ARGS)
    return captured.value.request


REGIONS = ["us-east-1", "ap-northeast-1", "cn-north-1", "us-gov-west-1", "us-isob-east-1", "eusc-de-east-1",
           "xx-future-7"]


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(("fips", "dualstack"), [(False, False), (True, False), (False, True), (True, True)])
def test_region_endpoints_match_botocore(monkeypatch: pytest.MonkeyPatch, region: str, fips: bool,
                                         dualstack: bool) -> None:
    env = {"AWS_REGION": region, "AWS_USE_FIPS_ENDPOINT": str(fips).lower(),
           "AWS_USE_DUALSTACK_ENDPOINT": str(dualstack).lower()}
    sent = botocore_request(monkeypatch, env)
    assert sent.url.startswith(f"{resolve_endpoint(env).url}/model/")


def test_dualstack_in_partitions_botocore_s_legacy_resolver_refuses_follows_the_rule_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # botocore's client construction consults the legacy endpoints.json, which has no dual-stack variant for
    # ISO-E/ISO-F, and raises before the rule set (which does name one) is used. We follow the rule set.
    from botocore.exceptions import EndpointVariantError

    env = {"AWS_REGION": "eu-isoe-west-1", "AWS_USE_DUALSTACK_ENDPOINT": "true"}
    with pytest.raises(EndpointVariantError):
        botocore_request(monkeypatch, env)
    assert endpoint_url(env) == "https://bedrock-runtime.eu-isoe-west-1.api.cloud-aws.adc-e.uk"


@pytest.mark.parametrize(
    "configured",
    [{"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://127.0.0.1:4566"},
     {"AWS_ENDPOINT_URL": "http://localhost:9000/prefix"},
     {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://127.0.0.1:1", "AWS_ENDPOINT_URL": "http://127.0.0.1:2"},
     {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://127.0.0.1:1", "AWS_USE_FIPS_ENDPOINT": "true",
      "AWS_USE_DUALSTACK_ENDPOINT": "true"},
     {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://127.0.0.1:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}],
    ids=["service-url", "global-url-with-path", "service-wins", "url-beats-fips-dualstack", "ignored"],
)
def test_configured_endpoints_and_whole_request_match_botocore(monkeypatch: pytest.MonkeyPatch,
                                                               configured: dict[str, str]) -> None:
    env = {"AWS_REGION": "ap-northeast-1", **configured}
    sent = botocore_request(monkeypatch, env)
    endpoint = resolve_endpoint(env)
    model_id, body = request_body(ARGS)
    sent_headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in sent.headers.items()}
    unsigned = {k: v for k, v in sent_headers.items()
                if k in ("User-Agent", "amz-sdk-invocation-id", "amz-sdk-request")}
    raw = build_request(endpoint, "ap-northeast-1", Credentials("AKIDX", "s", "tok"), model_id, sent.body,
                        WHEN.strftime("%Y%m%dT%H%M%SZ"), unsigned)
    head, _, sent_body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    ours = dict(line.split(": ", 1) for line in lines[1:])
    assert f"{endpoint.scheme}://{endpoint.host_header}{lines[0].split()[1]}" == sent.url  # modelId encoded alike
    assert ours == {"Host": endpoint.host_header, **sent_headers}  # same headers, values and signature
    assert sent_body == sent.body
    assert json.loads(body) == json.loads(sent.body)  # every Converse field passed through verbatim


def test_missing_region_and_bad_region_are_config_errors() -> None:
    with pytest.raises(ValueError, match="Missing Region"):
        endpoint_url({})
    with pytest.raises(ValueError, match="supported format"):
        endpoint_url({"AWS_REGION": "not a region"})


def test_credentials_and_when_botocore_takes_over() -> None:
    env = {"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S", "AWS_SESSION_TOKEN": "T"}
    assert env_credentials(env) == Credentials("A", "S", "T")
    assert "S" not in repr(env_credentials(env)) and "T" not in repr(env_credentials(env)).replace("Tok", "")
    assert env_credentials({"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S", "AWS_SECURITY_TOKEN": "L"}) == \
        Credentials("A", "S", "L")
    assert lean_unsupported(env) is None
    assert lean_unsupported({}) is not None
    assert lean_unsupported({**env, "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://x"}) is not None
    assert lean_unsupported({**env, "HTTPS_PROXY": "http://proxy"}) is not None
    assert lean_unsupported({**env, "BEDROCK_CLIENT": "botocore"}) == "BEDROCK_CLIENT=botocore"


OP_MODEL = botocore.session.Session().get_service_model("bedrock-runtime").operation_model("ConverseStream")
CODES = [None, "ThrottlingException", "ModelNotReadyException", "ServiceUnavailableException",
         "InternalServerException", "ValidationException", "AccessDeniedException", "ModelTimeoutException",
         "ModelErrorException", "ResourceNotFoundException", "RequestTimeout", "TooManyRequestsException",
         "SomethingNew", "503"]


class _Http:
    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status_code = status
        self.headers = headers


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("status", [400, 403, 408, 424, 429, 500, 502, 503, 504])
@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_retry_decisions_and_delays_match_botocore_standard_mode(code: str | None, status: int,
                                                                  attempt: int) -> None:
    parsed = {"Error": {"Code": code, "Message": "m"}} if code else {}
    headers = {"x-amz-retry-after": "1500"} if status == 503 else {}
    context = standard.RetryContext(attempt_number=attempt, operation_model=OP_MODEL, parsed_response=parsed,
                                    http_response=_Http(status, headers), request_context={})
    outcome = Outcome(status, code, headers.get("x-amz-retry-after"))
    conditions = standard.StandardRetryConditions(max_attempts=3)
    assert (attempt < 3 and is_retryable(outcome)) == conditions.is_retryable(context)
    detector = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())
    assert is_throttling(outcome) == detector.is_throttling_error_from_context(context)
    backoff = standard.ExponentialBackoff(random=lambda: 0.37, throttling_detector=detector)
    assert backoff_seconds(outcome, attempt, 0.37) == pytest.approx(backoff.delay_amount(context))


def test_transport_failures_are_retried_like_botocore() -> None:
    from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

    conditions = standard.StandardRetryConditions(max_attempts=3)
    for exc in (EndpointConnectionError(endpoint_url="u"), ConnectionClosedError(endpoint_url="u"),
                ReadTimeoutError(endpoint_url="u")):
        context = standard.RetryContext(attempt_number=1, operation_model=OP_MODEL, caught_exception=exc,
                                        request_context={})
        assert conditions.is_retryable(context) is is_retryable(Outcome(None, None)) is True
