"""The lean client over TLS (https endpoints, as on AWS): a loopback stand-in behind a throwaway certificate.

Checks the handshake and verification (a certificate the client does not trust is refused and classified as
``bedrock_unreachable``, as botocore's SSLError is), streaming over TLS, and keep-alive reuse across TLS 1.3
session tickets (readable bytes on an idle TLS connection that are not a close).
"""

from __future__ import annotations

import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bedrock_stream.aws_env import resolve_endpoint
from bedrock_stream.bedrock_events import classify_exception
from bedrock_stream.converse_http import LeanBedrockClient
from bedrock_stream.sigv4 import Credentials
from streaming_bedrock_local.bedrock_standin import BedrockStandin

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
ARGS = {"modelId": MODEL, "messages": [{"role": "user", "content": [{"text": "tls"}]}],
        "inferenceConfig": {"maxTokens": 20}}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=30)
    return cert, key


@pytest.fixture(scope="module")
def tls_standin(certificate: tuple[Path, Path]) -> Iterator[BedrockStandin]:
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    with BedrockStandin(pace_seconds=0, answer_tokens=5, model_ids=frozenset({MODEL})) as standin:
        assert standin._server is not None
        standin._server.socket = server_context.wrap_socket(standin._server.socket, server_side=True)
        yield standin


def client(standin: BedrockStandin, context: ssl.SSLContext | None) -> LeanBedrockClient:
    url = f"https://127.0.0.1:{standin.port}"
    endpoint = resolve_endpoint({"AWS_REGION": "ap-northeast-1", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": url})
    return LeanBedrockClient(endpoint, "ap-northeast-1", Credentials("AKIDTLS", "s", "t"), sleep=lambda _: None,
                             ssl_context=context)


def test_streams_over_tls_and_reuses_the_connection(tls_standin: BedrockStandin,
                                                    certificate: tuple[Path, Path]) -> None:
    context = ssl.create_default_context(cafile=str(certificate[0]))
    lean = client(tls_standin, context)
    lean.warm()  # handshake during init
    idle = lean._idle
    assert idle is not None and idle.tls
    time.sleep(0.2)  # TLS 1.3 session tickets arrive on the idle connection: readable, but not a close
    first = list(lean.converse_stream(**ARGS)["stream"])
    assert lean._idle is idle  # the warmed connection was used and kept
    second = list(lean.converse_stream(**ARGS)["stream"])
    assert first == second and first[0] == {"messageStart": {"role": "assistant"}}
    assert len(tls_standin.records()) == 2 and tls_standin.records()[-1].access_key_id == "AKIDTLS"


def test_an_untrusted_certificate_is_refused(tls_standin: BedrockStandin) -> None:
    lean = client(tls_standin, ssl.create_default_context())  # the system store does not know this certificate
    with pytest.raises(Exception) as caught:
        lean.converse_stream(**ARGS)
    assert type(caught.value).__name__ == "EndpointConnectionError"
    assert classify_exception(caught.value, MODEL).code == "bedrock_unreachable"
