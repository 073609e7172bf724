"""Multi-language packaging: the schema Pulumi infers for `pulumi package add ./components`, and the plugin files."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any, NotRequired

import grpc
import pytest
import yaml
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from streaming_bedrock_api.component import OUTPUT_NAMES, TYPE_TOKEN, StreamingBedrockApi, StreamingBedrockApiArgs
from streaming_bedrock_api.settings import CONFIG_KEYS, SETTING_NAMES

from .conftest import run_program

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = {
    "url",
    "apiId",
    "stageName",
    "functionName",
    "functionArn",
    "roleArn",
    "logGroupName",
    "logRetentionDays",
    "apiKey",
    "curlCommand",
    "clientApiKeys",
    "clientApiKeyIds",
    "accessLogGroupName",
    "dashboardUrl",
    "openaiBaseUrl",
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    provider = ComponentProvider([StreamingBedrockApi], "streaming-bedrock-api", version="0.1.0")
    assert provider.schema is not None
    loaded: dict[str, Any] = json.loads(provider.schema)
    return loaded


def test_schema_names_the_component_by_its_token(schema: dict[str, Any]) -> None:
    assert schema["name"] == "streaming-bedrock-api"
    assert schema["version"] == "0.1.0"
    assert list(schema["resources"]) == [TYPE_TOKEN]
    assert schema["resources"][TYPE_TOKEN]["isComponent"] is True


def test_schema_inputs_mirror_the_settings(schema: dict[str, Any]) -> None:
    resource = schema["resources"][TYPE_TOKEN]
    inputs = resource["inputProperties"]
    assert set(inputs) == set(CONFIG_KEYS)  # camelCase, the same names as the stack config
    assert resource["requiredInputs"] == ["modelId"]
    expected_types = {
        "modelId": "string",
        "auth": "string",
        "path": "string",
        "memorySize": "integer",
        "timeoutSeconds": "integer",
        "integrationTimeoutMs": "integer",
        "heartbeatSeconds": "number",
        "throttleRateLimit": "number",
        "tracing": "boolean",
        "reservedConcurrency": "integer",
    }
    for name, typ in expected_types.items():
        assert inputs[name]["type"] == typ, name
    for name in ("additionalModelIds", "allowedOrigins", "cognitoUserPoolArns"):
        assert inputs[name]["type"] == "array"
        assert inputs[name]["items"]["type"] == "string"
    for name, spec in inputs.items():
        assert spec.get("description"), name
    # Named clients: a list of objects with their own schema type.
    clients = inputs["clients"]
    assert clients["type"] == "array"
    client_type = schema["types"][clients["items"]["$ref"].removeprefix("#/types/")]
    assert set(client_type["properties"]) == {"name", "rateLimit", "burstLimit", "quotaPerDay"}
    assert client_type["required"] == ["name"]


def test_inputs_are_plain_in_the_types_and_in_the_schema(schema: dict[str, Any]) -> None:
    # The component refuses Outputs (its settings are validated together and decide which resources exist), so
    # the Python types and the schema other languages generate their SDKs from both say "plain value".
    hints = typing.get_type_hints(StreamingBedrockApiArgs)
    assert set(hints) == set(SETTING_NAMES)
    for name, hint in hints.items():
        inner = typing.get_args(hint)[0] if typing.get_origin(hint) is NotRequired else hint
        assert "Output" not in repr(inner) and "Awaitable" not in repr(inner), (name, inner)
    inputs = schema["resources"][TYPE_TOKEN]["inputProperties"]
    assert {name: spec.get("plain") for name, spec in inputs.items()} == dict.fromkeys(inputs, True)


def test_schema_outputs(schema: dict[str, Any]) -> None:
    resource = schema["resources"][TYPE_TOKEN]
    assert set(resource["properties"]) == OUTPUTS
    maps = {"clientApiKeys", "clientApiKeyIds"}  # client name -> key / key id
    properties = resource["properties"]
    assert all(properties[name]["type"] == "string" for name in OUTPUTS - maps - {"logRetentionDays"})
    assert properties["logRetentionDays"]["type"] == "integer"
    for name in maps:
        assert properties[name]["type"] == "object"
        assert properties[name]["additionalProperties"]["type"] == "string"
    # api_key is null unless auth is api_key, openai_base_url when the OpenAI routes are off.
    assert set(resource["required"]) == OUTPUTS - {"apiKey", "accessLogGroupName", "dashboardUrl", "openaiBaseUrl"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def test_output_names_are_the_schema_outputs() -> None:
    # OUTPUT_NAMES is what the component registers, the program exports and the component tests collect.
    assert sorted(map(_camel, OUTPUT_NAMES)) == sorted(OUTPUTS)


def test_plugin_files() -> None:
    plugin = yaml.safe_load((ROOT / "components" / "PulumiPlugin.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"
    entry = ast.parse((ROOT / "components" / "__main__.py").read_text())
    calls = [
        node
        for node in ast.walk(entry)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "component_provider_host"
    ]
    assert len(calls) == 1
    keywords = {keyword.arg: keyword.value for keyword in calls[0].keywords}
    assert isinstance(keywords["components"], ast.List)
    assert [element.id for element in keywords["components"].elts] == ["StreamingBedrockApi"]  # type: ignore[attr-defined]
    name_node = keywords["name"]
    assert isinstance(name_node, ast.Name) and name_node.id == "PROVIDER_NAME"
    assert 'PROVIDER_NAME = "streaming-bedrock-api"' in (ROOT / "components" / "__main__.py").read_text()
    requirements = (ROOT / "components" / "requirements.txt").read_text()
    assert "pulumi>=" in requirements and "pulumi-aws>=" in requirements
    # The plugin host installs from this file: the same ranges as the package (whose floors CI tests).
    project = (ROOT / "pyproject.toml").read_text()
    for line in requirements.splitlines():
        if line.startswith("pulumi"):
            assert f'"{line}",' in project, line


def test_plugin_entry_serves_the_schema_over_grpc_like_the_engine_asks_for_it(tmp_path: Path) -> None:
    # Run the entry the way the Python language host runs a source-based plugin: engine address as argument,
    # the gRPC port printed on stdout. The engine address is only used for logging, so a closed port is fine.
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "components" / "__main__.py"), "127.0.0.1:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            response = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30)
        served = json.loads(response.schema)
        assert list(served["resources"]) == [TYPE_TOKEN]
        assert served["version"] == "0.1.0"
        assert set(served["resources"][TYPE_TOKEN]["properties"]) == OUTPUTS
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_construct_through_the_provider_maps_camel_case_inputs_to_the_component() -> None:
    # What a TypeScript/YAML program triggers: the provider gets camelCase inputs and builds the component from
    # a plain dict; the construct result's state carries the outputs under their schema names.
    provider = ComponentProvider([StreamingBedrockApi], "streaming-bedrock-api", version="0.1.0")
    built: list[StreamingBedrockApi] = []

    def constructor(name: str, args: Any, opts: Any) -> StreamingBedrockApi:
        assert type(args) is dict  # the host passes a plain dict, not the TypedDict
        built.append(StreamingBedrockApi(name, args, opts))  # type: ignore[arg-type]
        return built[-1]

    provider._components["StreamingBedrockApi"] = constructor  # type: ignore[assignment]
    state: dict[str, Any] = {}

    def build() -> StreamingBedrockApi:
        result = provider.construct(
            "polyglot",
            TYPE_TOKEN,
            {
                "modelId": "jp.anthropic.claude-haiku-4-5-20251001-v1:0",
                "auth": "iam",
                "path": "chat",
                "allowedOrigins": ["https://app.example.com"],
                "timeoutSeconds": 300,
            },
        )
        state.update(result.state)
        return built[0]

    run = run_program(build)
    settings = run.component.settings
    assert settings.model_id == "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
    assert (settings.auth, settings.path, settings.timeout_seconds) == ("iam", "chat", 300)
    assert settings.allowed_origins == ("https://app.example.com",)
    assert set(state) == OUTPUTS
    post = run.one("aws:apigateway/method:Method", suffix="-post")
    assert post.inputs["authorization"] == "AWS_IAM"
    assert run.outputs["url"].endswith("/prod/chat")
