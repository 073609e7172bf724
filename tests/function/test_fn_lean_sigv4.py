"""SigV4 of the lean client, byte for byte against botocore's ``SigV4Auth`` (the oracle).

Same request, credentials and time on both sides; the request path is what botocore's rest-json serializer
builds (the modelId percent-encoded as one label), so the canonical URI's double encoding is exercised.
"""

from __future__ import annotations

import datetime
from unittest import mock
from urllib.parse import quote

import botocore.auth
from bedrock_stream.sigv4 import Credentials, canonical_uri, sign_headers
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

WHEN = datetime.datetime(2026, 12, 1, 21, 5, 9)


def botocore_signed(method: str, url: str, headers: dict[str, str], body: bytes, credentials: Credentials,
                    region: str, when: datetime.datetime) -> dict[str, str]:
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    signer = botocore.auth.SigV4Auth(
        BotoCredentials(credentials.access_key, credentials.secret_key, credentials.token), "bedrock", region)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        signer.add_auth(request)
    return {name: request.headers[name] for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")
            if name in request.headers}


def lean_signed(method: str, host: str, path: str, headers: dict[str, str], body: bytes, credentials: Credentials,
                region: str, when: datetime.datetime) -> dict[str, str]:
    return sign_headers(method, host, path, "", headers, body, credentials, region, "bedrock",
                        when.strftime("%Y%m%dT%H%M%SZ"))


def test_a_converse_stream_request_with_a_session_token_signs_identically() -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEXAMPLE//token==")
    path = f"/model/{quote('jp.anthropic.claude-haiku-4-5-20251001-v1:0', safe='-_.~')}/converse-stream"
    headers = {"Content-Type": "application/json", "User-Agent": "x  y", "amz-sdk-request": "attempt=1; max=3",
               "Content-Length": "52"}
    body = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
    host = "bedrock-runtime.ap-northeast-1.amazonaws.com"
    expected = botocore_signed("POST", f"https://{host}{path}", headers, body, credentials, "ap-northeast-1", WHEN)
    assert lean_signed("POST", host, path, headers, body, credentials, "ap-northeast-1", WHEN) == expected
    assert "%253A" not in path and canonical_uri(path).count("%253A") == 1  # double-encoded only when signing
    assert set(expected) == {"Authorization", "X-Amz-Date", "X-Amz-Security-Token"}


header_names = st.sampled_from(["Content-Type", "amz-sdk-invocation-id", "amz-sdk-request", "X-Custom",
                                "User-Agent", "Connection", "x-amzn-trace-id", "Accept"])
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=20).filter(
    lambda v: v.strip() != "")


@settings(max_examples=150, deadline=None)
@given(
    model_id=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x2FF, exclude_characters="?#%"), min_size=1,
                     max_size=40),
    headers=st.dictionaries(header_names, header_values, max_size=5),
    body=st.binary(max_size=200),
    token=st.none() | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30),
    region=st.sampled_from(["us-east-1", "ap-northeast-1", "cn-north-1", "us-gov-west-1"]),
    host=st.sampled_from(["bedrock-runtime.us-east-1.amazonaws.com", "127.0.0.1:8123", "localhost:4566",
                          "[::1]:9000"]),
    base=st.sampled_from(["", "/prefix", "/a/./b"]),
    seconds=st.integers(0, 10**9),
)
def test_signatures_equal_botocore_for_generated_requests(
    model_id: str, headers: dict[str, str], body: bytes, token: str | None, region: str, host: str, base: str,
    seconds: int,
) -> None:
    when = datetime.datetime(2001, 1, 1) + datetime.timedelta(seconds=seconds)
    credentials = Credentials("AKIDGENERATED", "secret/with+chars", token)
    path = f"{base}/model/{quote(model_id, safe='-_.~')}/converse-stream"
    scheme = "https" if "amazonaws" in host else "http"
    expected = botocore_signed("POST", f"{scheme}://{host}{path}", headers, body, credentials, region, when)
    assert lean_signed("POST", host, path, headers, body, credentials, region, when) == expected
