"""Pulumi mocks that record every registered resource, and a helper that runs the component under them.

Reusable by other test folders (the policy tests): import ``run_component`` / ``ComponentRun`` from here
(``from tests.component.conftest import run_component``; the repository root is on ``pythonpath``)::

    def test_something() -> None:
        run = run_component({"model_id": "anthropic.claude-haiku-4-5-20251001-v1:0", "auth": "none"})
        integration = run.one("aws:apigateway/integration:Integration", suffix="-post-integration")
        assert integration.inputs["responseTransferMode"] == "STREAM"

How it works: each run installs a *fresh* ``RecordingMocks`` and monitor with ``pulumi.runtime.set_mocks(...,
preview=False)`` and runs the program through ``pulumi.runtime.test`` (Pulumi's own test wrapper), which waits for
every outstanding registration before returning. Inputs are recorded in ``Mocks.new_resource`` (camelCase keys,
as the engine sees them); the parent URN is recorded by the monitor. The run fails loudly when nothing was
recorded or when an output never resolved, so an assertion can never pass vacuously (see pulumi.md's pitfall).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs
from streaming_bedrock_api.component import OUTPUT_NAMES

PROJECT = "streaming-bedrock-api"
STACK = "test"
REGION = "ap-northeast-1"
ACCOUNT = "123456789012"
PARTITION = "aws"
STAND_IN_API_KEY = "test-api-key-value-0123456789"


@dataclass(frozen=True)
class Registration:
    """One resource the program registered: type, logical name, inputs (camelCase), URN, parent and dependency URNs."""

    typ: str
    name: str
    inputs: dict[str, Any]
    urn: str
    parent: str
    custom: bool
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class InvokeCall:
    token: str
    args: dict[str, Any]


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    """Answers invokes like AWS would for ``REGION``/``ACCOUNT`` and returns computed attributes per type."""

    region: str = REGION
    account: str = ACCOUNT
    partition: str = PARTITION
    new_resources: list[MockResourceArgs] = field(default_factory=list)
    invokes: list[InvokeCall] = field(default_factory=list)

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.invokes.append(InvokeCall(args.token, dict(args.args)))
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region, "endpoint": ""}, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account,
                "arn": f"arn:{self.partition}:iam::{self.account}:user/test",
                "userId": "AIDATEST",
                "id": self.account,
            }, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": self.partition, "dnsSuffix": "amazonaws.com", "id": self.partition}, []
        raise NotImplementedError(f"the mocks do not answer invoke {args.token}")

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.new_resources.append(args)
        resource_id = f"{args.name}-id"
        state = dict(args.inputs)
        state.update(self._computed(args.typ, args.name, resource_id, args.inputs))
        return resource_id, state

    def _computed(self, typ: str, name: str, resource_id: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        arn_prefix = f"arn:{self.partition}"
        if typ == "aws:lambda/function:Function":
            fn_name = inputs.get("name") or f"{name}-0a1b2c3"
            arn = f"{arn_prefix}:lambda:{self.region}:{self.account}:function:{fn_name}"
            base = f"{arn_prefix}:apigateway:{self.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
            streaming = (
                f"{arn_prefix}:apigateway:{self.region}:lambda:path/2021-11-15/functions/{arn}"
                "/response-streaming-invocations"
            )
            return {"name": fn_name, "arn": arn, "invokeArn": base, "responseStreamingInvokeArn": streaming}
        if typ == "aws:iam/role:Role":
            role_name = inputs.get("name") or f"{name}-0a1b2c3"
            return {"name": role_name, "arn": f"{arn_prefix}:iam::{self.account}:role/{role_name}"}
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            group = inputs.get("name") or f"{inputs.get('namePrefix', name)}0a1b2c3"
            return {"name": group, "arn": f"{arn_prefix}:logs:{self.region}:{self.account}:log-group:{group}"}
        if typ == "aws:apigateway/restApi:RestApi":
            return {
                "name": inputs.get("name") or f"{name}-0a1b2c3",
                "rootResourceId": f"{name}-root",
                "executionArn": f"{arn_prefix}:execute-api:{self.region}:{self.account}:{resource_id}",
            }
        if typ == "aws:apigateway/stage:Stage":
            api = inputs.get("restApi")
            stage = inputs.get("stageName")
            return {"invokeUrl": f"https://{api}.execute-api.{self.region}.amazonaws.com/{stage}"}
        if typ == "aws:apigateway/apiKey:ApiKey":
            return {"value": STAND_IN_API_KEY}
        if typ == "aws:apigateway/authorizer:Authorizer":
            return {"arn": f"{arn_prefix}:apigateway:{self.region}::/restapis/x/authorizers/{resource_id}"}
        return {}


class RecordingMonitor(MockMonitor):
    """The stock mock monitor, plus the parent URN of every registration (``MockResourceArgs`` lacks it)."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            inputs = pulumi.runtime.rpc.deserialize_properties(request.object)
            self.registrations.append(
                Registration(
                    typ=request.type,
                    name=request.name,
                    inputs=dict(inputs),
                    urn=response.urn,
                    parent=request.parent,
                    custom=bool(request.custom),
                    dependencies=tuple(request.dependencies),
                )
            )
        return response


@dataclass(frozen=True)
class ComponentRun:
    """Everything one run of the component produced."""

    registrations: list[Registration]
    outputs: dict[str, Any]
    secret_outputs: frozenset[str]
    invokes: list[InvokeCall]
    component_urn: str
    component: Any

    def of_type(self, typ: str) -> list[Registration]:
        return [r for r in self.registrations if r.typ == typ]

    def one(self, typ: str, suffix: str | None = None) -> Registration:
        """The single registration of ``typ`` (whose name ends with ``suffix`` if given); fails otherwise."""
        found = [r for r in self.of_type(typ) if suffix is None or r.name.endswith(suffix)]
        if len(found) != 1:
            names = [r.name for r in self.of_type(typ)]
            raise AssertionError(f"expected one {typ} (suffix {suffix!r}), found {len(found)}: {names}")
        return found[0]

    def types(self) -> list[str]:
        return sorted(r.typ for r in self.registrations)


def run_program(
    build: Callable[[], Any],
    *,
    mocks: RecordingMocks | None = None,
    config: Mapping[str, str] | None = None,
) -> ComponentRun:
    """Run ``build()`` (which must create and return one ``StreamingBedrockApi``) under fresh mocks and config.

    ``config`` holds full keys (``"streaming-bedrock-api:auth"``) with string values, as the engine passes them.
    Exceptions from ``build`` (e.g. ``SettingsError``) propagate to the caller.
    """
    recording = mocks if mocks is not None else RecordingMocks()
    monitor = RecordingMonitor(recording)
    pulumi.runtime.set_mocks(recording, project=PROJECT, stack=STACK, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config or {}), [])

    resolved: dict[str, Any] = {}
    secrets: set[str] = set()
    urns: list[str] = []
    components: list[Any] = []

    async def collect(component: Any) -> None:
        for output_name in OUTPUT_NAMES:
            output: pulumi.Output[Any] = getattr(component, output_name)
            if not await output.is_known():
                raise AssertionError(f"output {output_name} never resolved under the mocks")
            resolved[output_name] = await output.future()
            if await output.is_secret():
                secrets.add(output_name)
        urns.append(await component.urn.future() or "")
        components.append(component)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> Any:
        return pulumi.Output.from_input(collect(build()))

    program()
    if not monitor.registrations:
        raise AssertionError("the program registered no resources: the mocks recorded nothing")
    if set(resolved) != set(OUTPUT_NAMES):
        raise AssertionError(f"outputs not collected: {sorted(set(OUTPUT_NAMES) - set(resolved))}")
    return ComponentRun(
        registrations=list(monitor.registrations),
        outputs=resolved,
        secret_outputs=frozenset(secrets),
        invokes=list(recording.invokes),
        component_urn=urns[0],
        component=components[0],
    )


def run_component(
    args: Mapping[str, Any],
    *,
    name: str = "chat",
    mocks: RecordingMocks | None = None,
) -> ComponentRun:
    """Run ``StreamingBedrockApi(name, args)`` under fresh mocks; returns the records and resolved outputs."""
    from streaming_bedrock_api.component import StreamingBedrockApi

    return run_program(lambda: StreamingBedrockApi(name, dict(args)), mocks=mocks)  # type: ignore[arg-type]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
