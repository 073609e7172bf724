"""The Pulumi program (__main__.py) and its stack files: typed config in, one component out."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from streaming_bedrock_api.settings import CONFIG_KEYS, Settings, resolve_settings

from .conftest import PROJECT, ComponentRun, run_program

ROOT = Path(__file__).resolve().parents[2]
PROJECT_FILE = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
DEV_STACK = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
TYPES = {"string": str, "integer": int, "boolean": bool, "array": list}
# Keys whose values are objects: Pulumi.yaml cannot type them (pulumi/pulumi#11321), so they are declared with a
# description and a default only, and the settings validate them.
OBJECT_KEYS = {"clients": list, "guardrail": dict}


def _engine_value(value: Any) -> str:
    # The engine hands every config value to the program as a string; objects and arrays as JSON.
    if isinstance(value, (list, dict, bool)):
        return json.dumps(value)
    return str(value)


def _run_program(config: dict[str, Any]) -> ComponentRun:
    engine_config = {f"{PROJECT}:{key}": _engine_value(value) for key, value in config.items()}
    return run_program(lambda: runpy.run_path(str(ROOT / "__main__.py"))["stack_api"], config=engine_config)


def test_project_file() -> None:
    assert PROJECT_FILE["name"] == PROJECT
    assert PROJECT_FILE["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    assert "-e ." in (ROOT / "requirements.txt").read_text().splitlines()


def test_every_setting_is_declared_typed_described_and_defaulted() -> None:
    declared = PROJECT_FILE["config"]
    assert set(declared) == set(CONFIG_KEYS)
    for key, spec in declared.items():
        if key in OBJECT_KEYS:
            assert "type" not in spec and spec["description"].strip(), key
            assert isinstance(spec["default"], OBJECT_KEYS[key]), key
            continue
        assert spec["type"] in TYPES, key
        assert spec["description"].strip(), key
        assert "default" in spec, key
        assert isinstance(spec["default"], TYPES[spec["type"]]), key
        if spec["type"] == "array":
            assert spec["items"] == {"type": "string"}, key


def test_the_declared_defaults_deploy_the_component_defaults() -> None:
    # What `pulumi up` does with an empty stack file: Pulumi.yaml's defaults become config.
    defaults = {key: spec["default"] for key, spec in PROJECT_FILE["config"].items()}
    run = _run_program(defaults)
    component: Any = run.component
    expected = resolve_settings({"model_id": defaults["modelId"]})
    assert component.settings == expected
    assert expected == Settings(model_id="jp.anthropic.claude-haiku-4-5-20251001-v1:0")


def test_dev_stack_reproduces_the_reference_setup() -> None:
    assert DEV_STACK["config"]["aws:region"] == "ap-northeast-1"
    assert DEV_STACK["config"][f"{PROJECT}:modelId"] == "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
    config = {key.split(":", 1)[1]: value for key, value in DEV_STACK["config"].items() if key.startswith(PROJECT)}
    run = _run_program(config)
    function = run.one("aws:lambda/function:Function", suffix="streaming-bedrock-fn")
    assert function.inputs["environment"]["variables"]["BEDROCK_MODEL_ID"] == config["modelId"]
    assert run.one("aws:apigateway/method:Method", suffix="-post").inputs["apiKeyRequired"] is True


def test_typed_config_reaches_the_component() -> None:
    run = _run_program(
        {
            "modelId": "global.anthropic.claude-haiku-4-5-20251001-v1:0",
            "auth": "none",
            "path": "chat",
            "allowedOrigins": ["https://app.example.com", "http://localhost:5173"],
            "memorySize": 512,
            "timeoutSeconds": 300,
            "integrationTimeoutMs": 0,
            "reservedConcurrency": 0,
            "heartbeatSeconds": "2.5",
            "throttleRateLimit": "3",
            "tracing": True,
        }
    )
    settings = run.component.settings
    assert settings.path == "chat"
    assert settings.allowed_origins == ("https://app.example.com", "http://localhost:5173")
    assert settings.memory_size == 512
    assert settings.integration_timeout_ms == 300_000  # 0 means "the function timeout"
    assert settings.reserved_concurrency is None  # 0 means unreserved
    assert settings.heartbeat_seconds == 2.5
    assert settings.throttle_rate_limit == 3.0
    assert settings.tracing is True
    assert run.outputs["url"].endswith("/prod/chat")


def test_bad_config_stops_the_program_naming_the_stack_key() -> None:
    with pytest.raises(pulumi.RunError, match=r"streaming-bedrock-api:timeoutSeconds: must be between 1 and 900"):
        _run_program({"modelId": "anthropic.claude-haiku-4-5-20251001-v1:0", "timeoutSeconds": 1000})


def test_clients_in_the_stack_file_reach_the_component() -> None:
    # Stack config objects use camelCase limits; the engine passes them as JSON.
    run = _run_program(
        {"modelId": "anthropic.claude-haiku-4-5-20251001-v1:0",
         "clients": [{"name": "web", "rateLimit": 2}, {"name": "batch", "quotaPerDay": 50}]}
    )
    assert [(c.name, c.rate_limit, c.quota_per_day) for c in run.component.settings.clients] == [
        ("web", 2.0, None),
        ("batch", None, 50),
    ]
    assert sorted(r.name for r in run.of_type("aws:apigateway/apiKey:ApiKey")) == [
        "streaming-bedrock-client-batch-key",
        "streaming-bedrock-client-web-key",
    ]
