"""Named clients in the local stack: the stack config's clients each get a key the gateway accepts, and the event
carries that key's id as ``requestContext.identity.apiKeyId`` like API Gateway does."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streaming_bedrock_api.settings import resolve_settings
from streaming_bedrock_local.local_clients import (
    DEFAULT_KEY_ID,
    key_ids_environment,
    local_api_keys,
    local_key_id,
    match_key,
)
from streaming_bedrock_local.stack_config import load_stack_config

from .conftest import MODEL, RunningStack, copy_function_with, free_port, prompt_body, request, running_stack
from .test_local_cli import _command, _env, _project

ECHO_HANDLER = r'''
import json
import os


def handle(event, context, stream):
    stream.start(200, {"Content-Type": "application/json"})
    identity = event["requestContext"]["identity"]
    stream.write(json.dumps({"apiKeyId": identity["apiKeyId"], "apiKey": identity["apiKey"],
                             "map": os.environ.get("CLIENT_KEY_IDS")}).encode())
'''


def test_local_key_ids_are_stable_and_shaped_like_api_gateways() -> None:
    assert local_key_id("web") == local_key_id("web") != local_key_id("batch")
    assert re.fullmatch(r"[0-9a-z]{10}", local_key_id("web"))
    settings = resolve_settings({"model_id": MODEL, "clients": [{"name": "web"}, {"name": "batch"}]})
    keys = local_api_keys(settings, values={"web": "k-web"})
    assert [(key.client, key.key_id) for key in keys] == [
        ("web", local_key_id("web")),
        ("batch", local_key_id("batch")),
    ]
    assert keys[0].value == "k-web" and len(keys[1].value) >= 24
    assert match_key(keys, "k-web") == keys[0] and match_key(keys, "nope") is None and match_key(keys, None) is None
    assert json.loads(key_ids_environment(keys)["CLIENT_KEY_IDS"]) == {local_key_id("web"): "web",
                                                                       local_key_id("batch"): "batch"}
    single = local_api_keys(resolve_settings({"model_id": MODEL}), "given")
    assert [(k.client, k.key_id, k.value) for k in single] == [("default", DEFAULT_KEY_ID, "given")]
    assert local_api_keys(resolve_settings({"model_id": MODEL, "auth": "none"})) == ()


def test_the_stack_file_clients_reach_the_local_settings(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "  streaming-bedrock-api:clients:\n"
        "    - name: web\n      rateLimit: 2\n"
        "    - name: batch\n      quotaPerDay: 50\n",
    )
    settings = load_stack_config(project).settings
    assert [(c.name, c.rate_limit, c.quota_per_day) for c in settings.clients] == [("web", 2.0, None),
                                                                                    ("batch", None, 50)]


@pytest.fixture(scope="module")
def clients_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    tmp = tmp_path_factory.mktemp("clients")
    source = copy_function_with(tmp, {"echo_identity.py": ECHO_HANDLER})
    with running_stack(
        tmp,
        settings={"clients": [{"name": "web"}, {"name": "batch"}]},
        client_key_values={"web": "key-of-web", "batch": "key-of-batch"},
        source_dir=source,
        handler="echo_identity.handle",
        concurrency=1,
    ) as running:
        yield running


@pytest.mark.parametrize("client", ["web", "batch"])
def test_each_clients_key_is_accepted_and_its_id_reaches_the_function(clients_stack: RunningStack, client: str) -> None:
    result = request(clients_stack.url, prompt_body(), {"x-api-key": f"key-of-{client}"})
    assert result.status == 200, result.body
    seen = result.json()
    assert seen["apiKeyId"] == local_key_id(client)
    assert seen["apiKey"] == f"key-of-{client}"
    assert json.loads(seen["map"])[seen["apiKeyId"]] == client


@pytest.mark.parametrize(("headers", "status"), [({}, 401), ({"x-api-key": "key-of-nobody"}, 403)])
def test_other_keys_are_refused_by_the_gateway(clients_stack: RunningStack, headers: dict[str, str],
                                               status: int) -> None:
    # No key header: 401 before the authorizer runs; a key that is no client's: 403 Forbidden.
    result = request(clients_stack.url, prompt_body(), headers)
    assert result.status == status
    if status == 403:
        assert result.json() == {"message": "Forbidden"}
    else:
        assert result.json()["error"]["code"] == "invalid_api_key"


def test_each_clients_key_works_as_a_bearer_key_on_the_openai_route(clients_stack: RunningStack) -> None:
    base = clients_stack.url.rsplit("/", 1)[0]
    for client in ("web", "batch"):
        result = request(f"{base}/v1/models", None, {"Authorization": f"Bearer key-of-{client}"}, "GET")
        assert result.status == 200, result.body
        # The authorizer's key is metered like x-api-key: the function sees that client's key id.
        assert result.json()["apiKeyId"] == local_key_id(client)
    assert request(f"{base}/v1/models", None, {"Authorization": "Bearer key-of-nobody"}, "GET").status == 403


def test_the_cli_prints_one_key_per_client_and_accepts_each(tmp_path: Path) -> None:
    project = _project(tmp_path, "  streaming-bedrock-api:clients:\n    - name: web\n    - name: batch\n")
    port = free_port()
    process = subprocess.Popen(
        [*_command(), "local", "--port", str(port), "--project-dir", str(project), "--token-delay-ms", "1",
         "--concurrency", "1"],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    keys: dict[str, str] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if match := re.search(r"api key of client (\S+): (\S+)", line):
                keys[match.group(1)] = match.group(2)
            if "warm workers ready" in line:
                break
        assert set(keys) == {"web", "batch"}, process.stderr.read() if process.stderr else ""
        url = f"http://127.0.0.1:{port}/prod/stream"
        for key in keys.values():
            assert request(url, prompt_body("hi"), {"x-api-key": key}).status == 200
        assert request(url, prompt_body("hi"), {"x-api-key": "wrong"}).status == 403
    finally:
        process.terminate()
        process.communicate(timeout=20)


def test_the_gateway_log_line_names_the_callers_key_like_the_access_log(
    clients_stack: RunningStack, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="streaming_bedrock_local.gateway"):
        result = request(clients_stack.url, prompt_body(), {"x-api-key": "key-of-batch"})
        assert result.status == 200
        deadline = time.monotonic() + 5
        lines: list[dict[str, object]] = []
        while not lines and time.monotonic() < deadline:
            lines = [json.loads(r.getMessage()) for r in caplog.records
                     if r.name == "streaming_bedrock_local.gateway" and r.getMessage().startswith("{")]
            time.sleep(0.02)
    assert lines and lines[-1]["apiKeyId"] == local_key_id("batch")
    assert lines[-1]["responseTransferMode"] == "STREAMED" and lines[-1]["sourceIp"] == "127.0.0.1"
    assert "key-of-batch" not in json.dumps(lines)  # the key's id, never its value
