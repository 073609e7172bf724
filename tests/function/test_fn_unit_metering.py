"""Per-client metering: key id -> client, Bedrock requestMetadata, and the per-client EMF document."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from bedrock_stream.config import ConfigError, FunctionConfig, load_config
from bedrock_stream.contract import InvocationContext
from bedrock_stream.metering import client_emf_line, client_for, parse_key_ids, request_metadata
from bedrock_stream.observability import InvocationRecord
from bedrock_stream.relay import Relay
from botocore.session import get_session

from .test_fn_unit_relay import RecordingStream, ScriptedClient, delta

KEY_IDS = {"abc123defg": "web", "zzz999yyyx": "batch"}


def _event(key_id: str | None) -> dict[str, Any]:
    return {
        "httpMethod": "POST",
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"prompt": "hello"}),
        "requestContext": {"identity": {"apiKeyId": key_id, "apiKey": "secret" if key_id else None}},
    }


def test_client_for_maps_the_key_id_and_marks_strangers() -> None:
    assert client_for(_event("abc123defg"), KEY_IDS) == "web"
    assert client_for(_event("not-ours00"), KEY_IDS) == "unknown"
    assert client_for(_event(None), KEY_IDS) is None
    assert client_for({"requestContext": "x"}, KEY_IDS) is None
    assert client_for("not an event", KEY_IDS) is None


@pytest.mark.parametrize("raw", ["[1]", "{", '{"id": 3}', '{"id": ""}'])
def test_a_bad_key_map_is_an_init_error_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="CLIENT_KEY_IDS"):
        load_config({"BEDROCK_MODEL_ID": "m", "AWS_REGION": "ap-northeast-1", "CLIENT_KEY_IDS": raw})
    assert parse_key_ids("") == {}


def test_request_metadata_respects_bedrocks_constraints() -> None:
    # botocore's service model is the oracle for what Bedrock accepts.
    shape = get_session().get_service_model("bedrock-runtime").operation_model("ConverseStream").input_shape
    value_pattern = shape.members["requestMetadata"].value.metadata["pattern"]
    assert value_pattern == "[a-zA-Z0-9\\s:_@$#=/+,-.]{0,256}"
    # The service's Java regex: \s is ASCII whitespace, and the whole value must match.
    oracle = re.compile(value_pattern, re.ASCII)
    samples = ["web-app.v2_x", "a b:c@d$e#f=g/h+i,j", "", "naïve", "x" * 256, "x" * 257, "a\u00a0b", "x" * 256 + "\n"]
    for sample in samples:
        sendable = oracle.fullmatch(sample) is not None
        # not sendable: dropped rather than failing the call
        assert request_metadata(sample) == ({"client": sample} if sendable else {}), repr(sample)
    assert request_metadata(None) == {}


def test_client_emf_document() -> None:
    record = InvocationRecord(request_id="r1", model="m", client="web", input_tokens=7, output_tokens=9,
                              cache_read_tokens=4, cache_write_tokens=0, ttft_ms=12.3456)
    document = json.loads(client_emf_line(record, "Ns", 1000) or "")
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Ns" and directive["Dimensions"] == [["Client"]]
    assert [m["Name"] for m in directive["Metrics"]] == [
        "Requests", "InputTokens", "OutputTokens", "CacheReadInputTokens", "CacheWriteInputTokens", "TimeToFirstToken"
    ]
    assert (document["Client"], document["Requests"], document["InputTokens"], document["OutputTokens"]) == (
        "web", 1, 7, 9
    )
    assert document["CacheReadInputTokens"] == 4 and document["TimeToFirstToken"] == 12.346
    # A rejected request has no tokens: only the request is counted.
    bare = json.loads(client_emf_line(InvocationRecord(request_id="r2", model="m", client="web"), "Ns", 1) or "")
    assert [m["Name"] for m in bare["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == ["Requests"]
    assert client_emf_line(InvocationRecord(request_id="r3", model="m"), "Ns", 1) is None


def test_the_relay_tags_the_call_and_meters_cache_tokens() -> None:
    usage = {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7, "cacheReadInputTokens": 3,
             "cacheWriteInputTokens": 1}
    client = ScriptedClient([delta("a"), delta("b"), {"messageStop": {"stopReason": "end_turn"}},
                             {"metadata": {"usage": usage, "metrics": {"latencyMs": 1}}}])
    lines: list[str] = []
    config = FunctionConfig(model_id="m", client_key_ids=KEY_IDS, function_name="chat-fn-0a1b2c3")
    relay = Relay(config, lambda: client, emit=lines.append)
    stream = RecordingStream()
    relay(_event("zzz999yyyx"), InvocationContext("req-1", int(time.time() * 1000) + 60_000), stream)
    assert stream.status == 200 and stream.body == b"ab"
    assert client.calls and client.calls[0]["requestMetadata"] == {"client": "batch"}
    documents = [json.loads(line) for line in lines]
    log, per_model, per_client = documents
    assert log["client"] == "batch" and log["cache_read_tokens"] == 3
    assert "Client" not in per_model and per_model["Model"] == "m"
    assert (per_client["Client"], per_client["CacheReadInputTokens"], per_client["CacheWriteInputTokens"]) == (
        "batch", 3, 1
    )
    # Both documents are this function's series (observability.py: the namespace is shared by every stack).
    for document, dimension in ((per_model, "Model"), (per_client, "Client")):
        assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["FunctionName", dimension]]
        assert document["FunctionName"] == "chat-fn-0a1b2c3"
