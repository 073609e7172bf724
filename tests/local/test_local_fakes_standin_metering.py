"""The stand-in enforces Bedrock's requestMetadata rules, checked with the real boto3 client over loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from streaming_bedrock_local.bedrock_standin import BedrockStandin

from .test_local_fakes_standin import MODEL, client_for, user


@pytest.fixture
def standin() -> Iterator[BedrockStandin]:
    with BedrockStandin(pace_seconds=0, answer_tokens=3) as server:
        yield server


def test_valid_request_metadata_is_accepted_and_recorded(standin: BedrockStandin) -> None:
    response = client_for(standin).converse_stream(
        modelId=MODEL, messages=user("q"), requestMetadata={"client": "web-app.v2", "team": "a b:c"}
    )
    events = list(response["stream"])
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 3
    recorded = standin.wait_for_done(1)[0].request
    assert recorded is not None and recorded["requestMetadata"] == {"client": "web-app.v2", "team": "a b:c"}


@pytest.mark.parametrize(
    "metadata",
    [{"client": "naïve"}, {"bad key!": "x"}, {f"k{i}": "v" for i in range(17)}, {"client": "x" * 257},
     {"client": "a\u00a0b"}, {"client": "x" * 256 + "\n"}, {"k" * 256 + "\n": "v"}],
    ids=["non-ascii-value", "bad-key", "17-entries", "long-value", "non-ascii-space", "long-value-newline",
         "long-key-newline"],
)
def test_metadata_bedrock_refuses_is_a_validation_exception(standin: BedrockStandin, metadata: dict[str, str]) -> None:
    client = client_for(standin)
    # Skip botocore's own client-side length checks, so the server's rule is what is tested.
    client.meta.config.parameter_validation = False
    with pytest.raises(ClientError) as caught:
        client.converse_stream(modelId=MODEL, messages=user("q"), requestMetadata=metadata)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "requestMetadata" in caught.value.response["Error"]["Message"]
