"""Named clients: one API key and usage plan per client, named after the client, under Pulumi mocks."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from streaming_bedrock_api.settings import LAMBDA_ENVIRONMENT_BYTES, SettingsError

from .conftest import STAND_IN_API_KEY, ComponentRun, Registration, run_component

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
API_KEY = "aws:apigateway/apiKey:ApiKey"
PLAN = "aws:apigateway/usagePlan:UsagePlan"
PLAN_KEY = "aws:apigateway/usagePlanKey:UsagePlanKey"
CLIENT_TYPES = (API_KEY, PLAN, PLAN_KEY)


def _run(clients: list[dict[str, Any]], **extra: Any) -> ComponentRun:
    return run_component({"model_id": MODEL, "clients": clients, **extra})


def _by_name(run: ComponentRun) -> dict[str, Registration]:
    return {r.name: r for r in run.registrations}


def test_each_client_gets_its_own_key_and_plan_with_the_stack_defaults_where_unset() -> None:
    run = _run(
        [{"name": "web-app", "rate_limit": 2, "quota_per_day": 500}, {"name": "batch", "burst_limit": 3}],
        throttle_rate_limit=5,
        throttle_burst_limit=8,
        quota_limit_per_day=1000,
    )
    names = _by_name(run)
    assert sorted(r.name for r in run.of_type(API_KEY)) == ["chat-client-batch-key", "chat-client-web-app-key"]
    web_plan = names["chat-client-web-app-usage-plan"].inputs
    assert web_plan["throttleSettings"] == {"rateLimit": 2, "burstLimit": 8}
    assert web_plan["quotaSettings"] == {"limit": 500, "period": "DAY"}
    batch_plan = names["chat-client-batch-usage-plan"].inputs
    assert batch_plan["throttleSettings"] == {"rateLimit": 5, "burstLimit": 3}
    assert batch_plan["quotaSettings"] == {"limit": 1000, "period": "DAY"}
    for client in ("web-app", "batch"):
        link = names[f"chat-client-{client}-usage-plan-key"].inputs
        assert link["keyId"] == f"chat-client-{client}-key-id"
        assert link["usagePlanId"] == f"chat-client-{client}-usage-plan-id"
        assert names[f"chat-client-{client}-key"].inputs["tags"] == {"streaming-bedrock-api:client": client}
        assert names[f"chat-client-{client}-usage-plan"].inputs["apiStages"] == [
            {"apiId": "chat-api-id", "stage": "prod"}
        ]
    # No default key beside the named ones.
    assert "chat-key" not in names
    assert run.outputs["client_api_keys"] == {"web-app": STAND_IN_API_KEY, "batch": STAND_IN_API_KEY}
    assert run.outputs["client_api_key_ids"] == {
        "web-app": "chat-client-web-app-key-id",
        "batch": "chat-client-batch-key-id",
    }
    assert "client_api_keys" in run.secret_outputs and "client_api_key_ids" not in run.secret_outputs
    assert run.outputs["api_key"] is None
    assert f"x-api-key: {STAND_IN_API_KEY}" in run.outputs["curl_command"]


def test_the_function_gets_the_key_id_to_client_map() -> None:
    run = _run([{"name": "web-app"}, {"name": "batch"}])
    variables = run.one("aws:lambda/function:Function", suffix="chat-fn").inputs["environment"]["variables"]
    assert json.loads(variables["CLIENT_KEY_IDS"]) == {
        "chat-client-web-app-key-id": "web-app",
        "chat-client-batch-key-id": "batch",
    }


def test_without_clients_the_single_key_is_the_default_client() -> None:
    run = run_component({"model_id": MODEL})
    assert [r.name for r in run.of_type(API_KEY)] == ["chat-key"]
    assert [r.name for r in run.of_type(PLAN)] == ["chat-usage-plan"]
    variables = run.one("aws:lambda/function:Function", suffix="chat-fn").inputs["environment"]["variables"]
    assert json.loads(variables["CLIENT_KEY_IDS"]) == {"chat-key-id": "default"}


def test_without_api_keys_there_is_no_key_map() -> None:
    run = run_component({"model_id": MODEL, "auth": "iam"})
    assert not run.of_type(API_KEY)
    function = run.one("aws:lambda/function:Function", suffix="chat-fn")
    assert "CLIENT_KEY_IDS" not in function.inputs["environment"]["variables"]
    assert run.outputs["client_api_keys"] == {} and run.outputs["client_api_key_ids"] == {}


def _comparable(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs with archives compared by path (a FileArchive object has no value equality)."""
    return {k: v.path if isinstance(v, pulumi.FileArchive) else v for k, v in inputs.items()}


def test_changing_one_client_leaves_every_other_clients_resources_alone() -> None:
    before = _run([{"name": "alice"}, {"name": "bob", "rate_limit": 4}, {"name": "carol"}])
    # alice revoked, bob's limit changed, dave added, and the order shuffled.
    after = _run([{"name": "dave"}, {"name": "carol"}, {"name": "bob", "rate_limit": 2}])
    old, new = _by_name(before), _by_name(after)
    client_resources = {name for name, r in {**old, **new}.items() if r.typ in CLIENT_TYPES}
    assert client_resources, "no client resources were recorded"

    def of(client: str, names: set[str]) -> set[str]:
        return {name for name in names if name.startswith(f"chat-client-{client}-")}

    # carol: untouched, although her position in the list changed.
    assert of("carol", set(old)) == of("carol", set(new)) and len(of("carol", set(new))) == 3
    for name in of("carol", set(new)):
        assert old[name].inputs == new[name].inputs, name
    # bob: the same key and plan link; only his plan's throttle changed (an in-place update).
    for suffix in ("key", "usage-plan-key"):
        assert old[f"chat-client-bob-{suffix}"].inputs == new[f"chat-client-bob-{suffix}"].inputs
    old_plan, new_plan = old["chat-client-bob-usage-plan"].inputs, new["chat-client-bob-usage-plan"].inputs
    assert old_plan["throttleSettings"]["rateLimit"] == 4 and new_plan["throttleSettings"]["rateLimit"] == 2
    assert {k: v for k, v in old_plan.items() if k != "throttleSettings"} == {
        k: v for k, v in new_plan.items() if k != "throttleSettings"
    }
    # alice: gone; dave: new.
    assert of("alice", set(old)) and not of("alice", set(new))
    assert not of("dave", set(old)) and len(of("dave", set(new))) == 3
    # Nothing else changed but the function's key map and the dashboard's per-client graph (in-place updates).
    shared = (set(old) & set(new)) - client_resources
    changed = sorted(name for name in shared if _comparable(old[name].inputs) != _comparable(new[name].inputs))
    assert changed == ["chat-dashboard", "chat-fn"]
    old_widgets = json.loads(old["chat-dashboard"].inputs["dashboardBody"])["widgets"]
    new_widgets = json.loads(new["chat-dashboard"].inputs["dashboardBody"])["widgets"]
    differing = [o["properties"]["title"] for o, n in zip(old_widgets, new_widgets, strict=True) if o != n]
    assert differing == ["Output tokens per minute, per client"]
    old_env = old["chat-fn"].inputs["environment"]["variables"]
    new_env = new["chat-fn"].inputs["environment"]["variables"]
    assert {k: v for k, v in old_env.items() if k != "CLIENT_KEY_IDS"} == {
        k: v for k, v in new_env.items() if k != "CLIENT_KEY_IDS"
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"clients": [{"name": "a"}], "auth": "iam"}, "need auth 'api_key'"),
        ({"clients": [{"name": "a"}, {"name": "A"}]}, "used twice"),
        ({"clients": [{"name": "bad name"}]}, "must be 1-64 letters"),
        ({"clients": [{"name": "a", "rate_limit": 50}]}, "exceeds the stage's throttle_rate_limit"),
        ({"clients": [{"name": "a", "burst_limit": 1.5}]}, "expected a whole number"),
        ({"clients": [{"name": "a", "quota": 5}]}, "unknown field 'quota'"),
        ({"clients": {"name": "a"}}, "expected a list of clients"),
        ({"clients": [{"name": f"c{i}"} for i in range(51)]}, "at most 50 clients"),
    ],
)
def test_bad_clients_fail_before_anything_is_created(args: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match="clients") as error:
        run_component({"model_id": MODEL, **args})
    assert message in str(error.value)


def test_clients_whose_key_map_would_not_fit_lambdas_environment_fail_at_preview() -> None:
    # 50 clients (the most allowed) with short names deploy; with long names the map alone is over 4 KB.
    short = [{"name": f"c{i}"} for i in range(50)]
    run = _run(short)
    variables = run.one("aws:lambda/function:Function", suffix="chat-fn").inputs["environment"]["variables"]
    assert len(json.loads(variables["CLIENT_KEY_IDS"])) == 50
    long_names = [{"name": f"{i:02d}" + "x" * 62} for i in range(50)]
    assert len(json.dumps({f"{i:010d}": c["name"] for i, c in enumerate(long_names)})) > LAMBDA_ENVIRONMENT_BYTES
    with pytest.raises(SettingsError, match="clients") as error:
        _run(long_names)
    assert "over Lambda's 4096" in str(error.value)
