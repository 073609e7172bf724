"""The README's production-setup stack file is valid and deploys what it says, under Pulumi mocks."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from typing import Any

import yaml

from .conftest import PROJECT, run_program

ROOT = Path(__file__).resolve().parents[2]


def _production_config() -> dict[str, Any]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Production setup", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    config: dict[str, Any] = yaml.safe_load(block.group(1))["config"]
    return config


def test_the_production_example_deploys_clients_logs_monitoring_and_the_guardrail() -> None:
    config = _production_config()
    engine = {
        key: json.dumps(value) if isinstance(value, (list, dict, bool)) else str(value)
        for key, value in config.items()
        if key.startswith(f"{PROJECT}:")
    }
    run = run_program(lambda: runpy.run_path(str(ROOT / "__main__.py"))["stack_api"], config=engine)
    settings = run.component.settings
    assert [c.name for c in settings.clients] == ["web-app", "support-bot", "nightly-batch"]
    assert settings.access_logs and settings.guardrail is not None and settings.guardrail.version == "3"
    assert len(run.of_type("aws:apigateway/apiKey:ApiKey")) == 3
    assert run.one("aws:apigateway/stage:Stage").inputs["accessLogSettings"]["format"]
    alarms = run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert len(alarms) == 4 and all(a.inputs["alarmActions"] == [config[f"{PROJECT}:alarmTopicArn"]] for a in alarms)
    policy = run.one("aws:iam/rolePolicy:RolePolicy", suffix="-bedrock").inputs["policy"]
    assert "bedrock:GuardrailIdentifier" in policy
    assert run.outputs["dashboard_url"]
