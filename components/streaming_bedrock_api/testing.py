"""Pulumi mocks for unit-testing a program that uses :class:`StreamingBedrockApi` (no AWS, no Pulumi CLI).

The component asks the AWS provider for the region, the caller's account and the partition, and reads computed
attributes of its children (the function's ARNs, the stage's invoke URL, ...). Pulumi's default mocks answer none
of that: a test then fails with ``ValueError: region: must not be empty`` or an ``AttributeError``.
:class:`StreamingBedrockApiMocks` answers those invokes like AWS would for one region and account, gives each
child the attributes AWS would compute, and records every resource so a test can assert on the inputs *after*
the program ran (an assert inside ``apply`` may never run under mocks)::

    mocks = StreamingBedrockApiMocks(region="eu-west-1")
    pulumi.runtime.set_mocks(mocks, preview=False)

    @pulumi.runtime.test
    def program() -> pulumi.Output[str]:
        api = StreamingBedrockApi("chat", {"model_id": "eu.anthropic.claude-haiku-4-5-20251001-v1:0"})
        return api.url

    program()
    integration = mocks.one("aws:apigateway/integration:Integration")
    assert integration.inputs["responseTransferMode"] == "STREAM"

Input keys are camelCase, as the engine sees them. The README of the component has a complete example test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

REGION_INVOKE = "aws:index/getRegion:getRegion"
CALLER_IDENTITY_INVOKE = "aws:index/getCallerIdentity:getCallerIdentity"
PARTITION_INVOKE = "aws:index/getPartition:getPartition"


@dataclass(frozen=True)
class MockedResource:
    """One resource the program registered: its type token, logical name and inputs (camelCase)."""

    typ: str
    name: str
    inputs: Mapping[str, Any]


@dataclass
class StreamingBedrockApiMocks(pulumi.runtime.Mocks):
    """Answers the component's invokes for ``region``/``account_id``/``partition`` and records every resource."""

    region: str = "us-east-1"
    account_id: str = "123456789012"
    partition: str = "aws"
    api_key_value: str = "mock-api-key-value"
    resources: list[MockedResource] = field(default_factory=list)

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == REGION_INVOKE:
            # pulumi-aws 7 reads "region"; older code reads "name": answer both.
            return {"region": self.region, "name": self.region, "id": self.region}, []
        if args.token == CALLER_IDENTITY_INVOKE:
            return {
                "accountId": self.account_id,
                "arn": f"arn:{self.partition}:iam::{self.account_id}:user/test",
                "userId": "AIDATESTUSER",
                "id": self.account_id,
            }, []
        if args.token == PARTITION_INVOKE:
            return {"partition": self.partition, "dnsSuffix": "amazonaws.com", "id": self.partition}, []
        raise NotImplementedError(f"StreamingBedrockApiMocks does not answer invoke {args.token}")

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.resources.append(MockedResource(args.typ, args.name, dict(args.inputs)))
        resource_id = f"{args.name}-id"
        state = dict(args.inputs)
        state.update(self._computed(args.typ, args.name, resource_id, args.inputs))
        return resource_id, state

    def of_type(self, typ: str) -> list[MockedResource]:
        """Every recorded resource of type token ``typ`` (e.g. ``aws:lambda/function:Function``)."""
        return [resource for resource in self.resources if resource.typ == typ]

    def one(self, typ: str, suffix: str | None = None) -> MockedResource:
        """The single recorded resource of ``typ`` whose name ends with ``suffix``; fails if there is not one."""
        found = [r for r in self.of_type(typ) if suffix is None or r.name.endswith(suffix)]
        if len(found) != 1:
            raise AssertionError(f"expected one {typ} (suffix {suffix!r}), found {[r.name for r in found]}")
        return found[0]

    def _computed(self, typ: str, name: str, resource_id: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The attributes AWS computes that the component reads, shaped like the real ones."""
        arn = f"arn:{self.partition}"
        if typ == "aws:lambda/function:Function":
            function_name = inputs.get("name") or f"{name}-0a1b2c3"
            function_arn = f"{arn}:lambda:{self.region}:{self.account_id}:function:{function_name}"
            path = f"{arn}:apigateway:{self.region}:lambda:path"
            streaming = f"{path}/2021-11-15/functions/{function_arn}/response-streaming-invocations"
            return {
                "name": function_name,
                "arn": function_arn,
                "invokeArn": f"{path}/2015-03-31/functions/{function_arn}/invocations",
                "responseStreamingInvokeArn": streaming,
            }
        if typ == "aws:iam/role:Role":
            role_name = inputs.get("name") or f"{name}-0a1b2c3"
            return {"name": role_name, "arn": f"{arn}:iam::{self.account_id}:role/{role_name}"}
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            group = inputs.get("name") or f"{inputs.get('namePrefix', name)}0a1b2c3"
            return {"name": group, "arn": f"{arn}:logs:{self.region}:{self.account_id}:log-group:{group}"}
        if typ == "aws:apigateway/restApi:RestApi":
            return {
                "rootResourceId": f"{resource_id}-root",
                "executionArn": f"{arn}:execute-api:{self.region}:{self.account_id}:{resource_id}",
            }
        if typ == "aws:apigateway/stage:Stage":
            api, stage = inputs.get("restApi"), inputs.get("stageName")
            return {"invokeUrl": f"https://{api}.execute-api.{self.region}.amazonaws.com/{stage}"}
        if typ == "aws:apigateway/apiKey:ApiKey":
            return {"value": self.api_key_value}
        if typ == "aws:apigateway/authorizer:Authorizer":
            return {"arn": f"{arn}:apigateway:{self.region}::/restapis/{resource_id}/authorizers/{resource_id}"}
        return {}
