"""Per-client metering through the local stack: two clients call the real function (deployed zip) against the
stand-in; each invocation's EMF document carries the caller's ``Client`` dimension and its own token counts, and
Bedrock gets the client in ``requestMetadata``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from streaming_bedrock_local.bedrock_standin import standin_answer
from streaming_bedrock_local.lambda_pool import DEFAULT_FUNCTION_NAME

from .conftest import RunningStack, next_record, prompt_body, request, running_stack

PROMPTS = {"web": ["first from web", "second from web"], "batch": ["only one from batch"]}


def _emf_documents(log: str) -> list[dict[str, Any]]:
    documents = []
    for line in log.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            documents.append(json.loads(line))
    return documents


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningStack, dict[str, dict[str, Any]]]]:
    tmp = tmp_path_factory.mktemp("metering")
    with running_stack(
        tmp,
        settings={"clients": [{"name": "web"}, {"name": "batch"}]},
        client_key_values={"web": "key-of-web", "batch": "key-of-batch"},
        answer_tokens=12,
        concurrency=1,
    ) as running:
        sent: dict[str, dict[str, Any]] = {}
        for client, prompts in PROMPTS.items():
            for prompt in prompts:
                before = len(running.standin.records())
                result = request(running.url, prompt_body(prompt), {"x-api-key": f"key-of-{client}"})
                assert result.status == 200 and result.complete
                record = next_record(running.standin, before)
                answer = standin_answer(record.request or {}, answer_tokens=12)
                assert result.body.decode() == answer.text
                sent[prompt] = {"client": client, "request": record.request, "input": answer.input_tokens,
                                "output": answer.output_tokens}
        # The worker writes its log lines right after the response ended; wait for all of them.
        deadline = time.monotonic() + 10
        while len([d for d in _emf_documents(running.function_log()) if "Client" in d]) < 3:
            assert time.monotonic() < deadline, running.function_log()[-2000:]
            time.sleep(0.05)
        yield running, sent


def test_bedrock_gets_the_client_in_request_metadata(metered: tuple[RunningStack, dict[str, dict[str, Any]]]) -> None:
    _, sent = metered
    assert sent
    for info in sent.values():
        assert info["request"]["requestMetadata"] == {"client": info["client"]}


def test_each_invocation_emits_a_client_emf_document_with_its_own_counts(
    metered: tuple[RunningStack, dict[str, dict[str, Any]]],
) -> None:
    running, sent = metered
    documents = _emf_documents(running.function_log())
    per_client = [d for d in documents if "Client" in d]
    per_model = [d for d in documents if "Model" in d]
    assert len(per_client) == 3 and len(per_model) == 3  # next to the existing per-model documents
    by_request = {d["RequestId"]: d for d in per_model}
    seen: dict[str, list[tuple[int, int]]] = {"web": [], "batch": []}
    for document in per_client:
        directive = document["_aws"]["CloudWatchMetrics"][0]
        assert directive["Namespace"] == "StreamingBedrockApi"
        # Within this function only (the namespace is shared by every stack in the account).
        assert directive["Dimensions"] == [["FunctionName", "Client"]]
        assert document["FunctionName"] == DEFAULT_FUNCTION_NAME
        names = {metric["Name"] for metric in directive["Metrics"]}
        assert {"Requests", "InputTokens", "OutputTokens", "TimeToFirstToken"} <= names
        assert document["Requests"] == 1 and document["TimeToFirstToken"] > 0
        # The per-model document of the same invocation agrees on the counts.
        twin = by_request[document["RequestId"]]
        assert (twin["InputTokens"], twin["OutputTokens"]) == (document["InputTokens"], document["OutputTokens"])
        seen[document["Client"]].append((document["InputTokens"], document["OutputTokens"]))
    for client in ("web", "batch"):
        expected = sorted((i["input"], i["output"]) for i in sent.values() if i["client"] == client)
        assert sorted(seen[client]) == expected and expected
    # The invocation log line names the client too (and still no prompt text).
    log = running.function_log()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith('{"message":"invocation"')]
    assert sorted(line["client"] for line in lines) == ["batch", "web", "web"]
    assert not any(prompt in log for prompt in sent)
