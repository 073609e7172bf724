"""The pack as the Pulumi CLI runs it: a real analyzer process spoken to over gRPC on loopback.

The CLI starts a Python pack with ``python -u -m pulumi.policy <engine> <pack dir>`` (the SDK's
pulumi-analyzer-policy-python shim), reads the port from the first stdout line, then calls
GetAnalyzerInfo/Configure/Analyze/AnalyzeStack. This test does the same, so it checks the wiring the in-process
tests cannot: ``__main__.py`` importing the rules, enforcement levels and config schema as the engine sees them,
the engine's unknown-value sentinels, and property dependencies arriving as URNs.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as rpc
from pulumi.runtime.proto import analyzer_pb2_grpc as rpc_grpc

from policy import streaming_policies as sp
from tests.policy.conftest import INVOKE_URI, UNKNOWN, Res, good_stack, scoped_policy_document, urn

PACK_DIR = Path(__file__).resolve().parents[2] / "policy"
START_TIMEOUT_S = 60
CALL_TIMEOUT_S = 20


def _read_port(process: subprocess.Popen[bytes]) -> int:
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline() if process.stdout else b""))
    reader.daemon = True
    reader.start()
    reader.join(START_TIMEOUT_S)
    if not line or not line[0].strip():
        process.kill()
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        raise AssertionError(f"the policy pack printed no port within {START_TIMEOUT_S} s; stderr:\n{stderr}")
    return int(line[0].strip())


@pytest.fixture(scope="module")
def analyzer() -> Iterator[rpc_grpc.AnalyzerStub]:
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(PACK_DIR)],
        cwd=PACK_DIR,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        port = _read_port(process)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT_S)
        yield rpc_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


def _analyze(stub: rpc_grpc.AnalyzerStub, resource_type: str, name: str, props: dict[str, Any]) -> list[Any]:
    request = rpc.AnalyzeRequest(type=resource_type, properties=_struct(props), urn=urn(resource_type, name), name=name)
    return list(stub.Analyze(request, timeout=CALL_TIMEOUT_S).diagnostics)


def _analyze_stack(stub: rpc_grpc.AnalyzerStub, resources: Sequence[Res]) -> list[Any]:
    by_name = {res.name: res for res in resources}
    request = rpc.AnalyzeStackRequest(
        resources=[
            rpc.AnalyzerResource(
                type=res.type,
                properties=_struct(res.props),
                urn=res.urn,
                name=res.name,
                dependencies=sorted({by_name[n].urn for names in res.deps.values() for n in names}),
                propertyDependencies={
                    prop: rpc.AnalyzerPropertyDependencies(urns=[by_name[n].urn for n in names])
                    for prop, names in res.deps.items()
                },
            )
            for res in resources
        ]
    )
    return list(stub.AnalyzeStack(request, timeout=CALL_TIMEOUT_S).diagnostics)


def _configure(stub: rpc_grpc.AnalyzerStub, config: dict[str, dict[str, Any]]) -> None:
    request = rpc.ConfigureAnalyzerRequest(
        policyConfig={
            name: rpc.PolicyConfig(enforcementLevel=rpc.ADVISORY, properties=_struct(values))
            for name, values in config.items()
        }
    )
    stub.Configure(request, timeout=CALL_TIMEOUT_S)


def test_pack_announces_every_policy_with_its_level(analyzer: rpc_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=CALL_TIMEOUT_S)
    assert info.name == "streaming-bedrock-api-guards" and info.supportsConfig
    levels = {policy.name: policy.enforcementLevel for policy in info.policies}
    assert set(levels) == {policy.name for policy in sp.ALL_POLICIES}
    assert levels.pop("public-method-declared") == rpc.ADVISORY
    assert levels.pop("bedrock-guardrail-required") == rpc.DISABLED  # each stack turns it on in its pack config
    assert set(levels.values()) == {rpc.MANDATORY}
    public = next(policy for policy in info.policies if policy.name == "public-method-declared")
    assert sp.PUBLIC_METHODS_CONFIG in public.configSchema.properties


def test_resource_rules_report_through_the_engine(analyzer: rpc_grpc.AnalyzerStub) -> None:
    good = {
        "type": "AWS_PROXY",
        "responseTransferMode": "STREAM",
        "timeoutMilliseconds": 900000,
        "uri": good_stack()["post-integration"].props["uri"],
    }
    assert _analyze(analyzer, sp.INTEGRATION, "chat-post-integration", good) == []

    bad = dict(good, uri=INVOKE_URI, timeoutMilliseconds=1_000_000)
    diagnostics = _analyze(analyzer, sp.INTEGRATION, "chat-post-integration", bad)
    assert sorted(d.policyName for d in diagnostics) == [
        "integration-timeout-limit",
        "stream-integration-streaming-uri",
    ]
    assert all(d.enforcementLevel == rpc.MANDATORY and "'chat-post-integration'" in d.message for d in diagnostics)
    assert any("timeoutMilliseconds 1000000;" in d.message for d in diagnostics)


def test_unknown_values_become_the_engines_preview_note(analyzer: rpc_grpc.AnalyzerStub) -> None:
    props = {"type": "AWS_PROXY", "responseTransferMode": "STREAM", "uri": UNKNOWN}
    diagnostics = _analyze(analyzer, sp.INTEGRATION, "chat-post-integration", props)
    assert [d.policyName for d in diagnostics] == ["stream-integration-streaming-uri"]
    assert diagnostics[0].enforcementLevel == rpc.ADVISORY and "during preview" in diagnostics[0].message


def test_stack_rules_follow_property_dependencies(analyzer: rpc_grpc.AnalyzerStub) -> None:
    assert _analyze_stack(analyzer, list(good_stack(auth="iam", preview=True).values())) == []

    stack = good_stack(auth="iam", preview=True)
    stack["api"].props["endpointConfiguration"] = {"types": "EDGE"}
    stack["relay"].props["timeout"] = 60
    del stack["method-settings"]
    diagnostics = _analyze_stack(analyzer, list(stack.values()))
    found = sorted((d.policyName, d.urn) for d in diagnostics)
    assert found == [
        ("stream-api-regional-endpoint", stack["api"].urn),
        ("stream-function-timeout-covers-integration", stack["relay"].urn),
        ("stream-stage-throttled", stack["stage"].urn),
    ]


def test_public_method_declaration_through_pack_config(analyzer: rpc_grpc.AnalyzerStub) -> None:
    resources = list(good_stack(auth="none").values())
    diagnostics = _analyze_stack(analyzer, resources)
    assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [("public-method-declared", rpc.ADVISORY)]
    _configure(analyzer, {"public-method-declared": {sp.PUBLIC_METHODS_CONFIG: ["POST /stream"]}})
    try:
        assert _analyze_stack(analyzer, resources) == []
    finally:
        _configure(analyzer, {})


def test_guardrail_rule_is_off_until_a_stack_makes_it_mandatory(analyzer: rpc_grpc.AnalyzerStub) -> None:
    unguarded = {"policy": scoped_policy_document()}
    assert [d.policyName for d in _analyze(analyzer, sp.IAM_ROLE_POLICY, "chat-bedrock", unguarded)] == []
    request = rpc.ConfigureAnalyzerRequest(
        policyConfig={"bedrock-guardrail-required": rpc.PolicyConfig(enforcementLevel=rpc.MANDATORY)}
    )
    analyzer.Configure(request, timeout=CALL_TIMEOUT_S)
    try:
        diagnostics = _analyze(analyzer, sp.IAM_ROLE_POLICY, "chat-bedrock", unguarded)
        assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [
            ("bedrock-guardrail-required", rpc.MANDATORY)
        ]
        assert "bedrock:GuardrailIdentifier" in diagnostics[0].message
    finally:
        _configure(analyzer, {})
