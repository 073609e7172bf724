"""Replay a component run into moto: every resource the Pulumi mocks recorded becomes the boto3 call that creates
it, in registration order, with the recorded inputs. The test therefore follows the component: a new input reaches
moto unchanged, and a new resource type fails here until the replay learns it.

Ids: the mocks name a resource ``{logical name}-id`` (and a REST API's root ``{name}-root``); moto makes its own.
:class:`Replay` maps one to the other and rewrites every recorded string through that map (integration URIs,
permission source ARNs, the stack outputs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockResourceArgs

from tests.component.conftest import ComponentRun, RecordingMocks, Registration, run_component

COMPONENT = "streaming-bedrock-api:index:StreamingBedrockApi"


@dataclass
class StateRecordingMocks(RecordingMocks):
    """The component tests' mocks, also keeping the id and state each resource got (names, ARNs)."""

    states: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        self.states[args.name] = (resource_id or "", state)
        return resource_id, state


def recorded_stack(args: Mapping[str, Any], name: str = "chat") -> tuple[ComponentRun, StateRecordingMocks]:
    mocks = StateRecordingMocks()
    run = run_component(args, name=name, mocks=mocks)
    return run, mocks


def _int(value: Any) -> int:
    return int(float(value))


@dataclass
class Replay:
    clients: Mapping[str, Any]  # boto3 clients: apigateway, lambda, iam, logs, cloudwatch
    ids: dict[str, str] = field(default_factory=dict)
    handled: list[str] = field(default_factory=list)

    def sub(self, value: Any) -> Any:
        """``value`` with every mock id replaced by the real one (strings, lists and dicts, recursively)."""
        if isinstance(value, str):
            if not self.ids:
                return value
            pattern = re.compile("|".join(re.escape(k) for k in sorted(self.ids, key=len, reverse=True)))
            return pattern.sub(lambda match: self.ids[match.group(0)], value)
        if isinstance(value, list):
            return [self.sub(item) for item in value]
        if isinstance(value, dict):
            return {key: self.sub(item) for key, item in value.items()}
        return value

    def run(self, run: ComponentRun, mocks: StateRecordingMocks) -> dict[str, Any]:
        """Create everything; returns the stack outputs with real ids."""
        for registration in run.registrations:
            if registration.typ == COMPONENT:
                continue
            resource_id, state = mocks.states[registration.name]
            self.apply(registration, resource_id, state)
            self.handled.append(registration.typ)
        return {key: self.sub(value) for key, value in run.outputs.items()}

    def apply(self, reg: Registration, resource_id: str, state: Mapping[str, Any]) -> None:
        handler = getattr(self, "_" + reg.typ.split(":")[-1], None)
        if handler is None:
            raise AssertionError(f"the moto replay does not know {reg.typ}: teach tests/verify/replay.py")
        inputs = self.sub(dict(reg.inputs))
        created = handler(reg, inputs, state)
        if created is not None:
            self.ids[resource_id] = created

    # -- one method per resource type: (registration, inputs with real ids, mock state) -> real id or None ----------

    def _LogGroup(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> str:
        name = str(state["name"])
        self.clients["logs"].create_log_group(logGroupName=name)
        self.clients["logs"].put_retention_policy(logGroupName=name, retentionInDays=_int(inputs["retentionInDays"]))
        return name

    def _Role(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> str:
        name = str(state["name"])
        self.clients["iam"].create_role(
            RoleName=name, AssumeRolePolicyDocument=inputs["assumeRolePolicy"], Description=inputs["description"]
        )
        return name

    def _RolePolicy(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        self.clients["iam"].put_role_policy(
            RoleName=inputs["role"], PolicyName=reg.name, PolicyDocument=inputs["policy"]
        )

    def _RolePolicyAttachment(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        self.clients["iam"].attach_role_policy(RoleName=inputs["role"], PolicyArn=inputs["policyArn"])

    def _Function(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> str:
        code = reg.inputs["code"]
        assert isinstance(code, pulumi.FileArchive)
        logging = inputs.get("loggingConfig") or {}
        extra: dict[str, Any] = {}
        if inputs.get("tracingConfig"):
            extra["TracingConfig"] = {"Mode": inputs["tracingConfig"]["mode"]}
        if inputs.get("environment"):  # the key authorizer has none
            extra["Environment"] = {"Variables": inputs["environment"]["variables"]}
        self.clients["lambda"].create_function(
            FunctionName=str(state["name"]),
            Description=inputs["description"],
            Runtime=inputs["runtime"],
            Architectures=inputs["architectures"],
            Handler=inputs["handler"],
            Role=inputs["role"],
            Code={"ZipFile": Path(code.path).read_bytes()},
            MemorySize=_int(inputs["memorySize"]),
            Timeout=_int(inputs["timeout"]),
            LoggingConfig={"LogFormat": logging["logFormat"], "LogGroup": logging["logGroup"]},
            **extra,
        )
        if inputs.get("reservedConcurrentExecutions") is not None:
            self.clients["lambda"].put_function_concurrency(
                FunctionName=str(state["name"]),
                ReservedConcurrentExecutions=_int(inputs["reservedConcurrentExecutions"]),
            )
        return str(state["name"])

    def _Permission(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        self.clients["lambda"].add_permission(
            FunctionName=inputs["function"],
            StatementId=reg.name,
            Action=inputs["action"],
            Principal=inputs["principal"],
            SourceArn=inputs["sourceArn"],
        )

    def _RestApi(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        types = inputs["endpointConfiguration"]["types"]
        api = self.clients["apigateway"].create_rest_api(
            name=reg.name,
            description=inputs["description"],
            endpointConfiguration={"types": types if isinstance(types, list) else [types]},
            tags=inputs.get("tags") or {},
            **({"apiKeySource": inputs["apiKeySource"]} if inputs.get("apiKeySource") else {}),
        )
        self.ids[f"{reg.name}-root"] = api["rootResourceId"]
        self.ids[f"{reg.name}-id"] = api["id"]

    def _Resource(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> str:
        created = self.clients["apigateway"].create_resource(
            restApiId=inputs["restApi"], parentId=inputs["parentId"], pathPart=inputs["pathPart"]
        )
        return str(created["id"])

    def _Authorizer(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> str:
        # Cognito user pools, or the API key REQUEST authorizer (a Lambda URI and a result TTL instead).
        optional = {
            "providerARNs": inputs.get("providerArns"),
            "authorizerUri": inputs.get("authorizerUri"),
            "authorizerResultTtlInSeconds": (_int(inputs["authorizerResultTtlInSeconds"])
                                             if "authorizerResultTtlInSeconds" in inputs else None),
        }
        created = self.clients["apigateway"].create_authorizer(
            restApiId=inputs["restApi"],
            name=reg.name,
            type=inputs["type"],
            identitySource=inputs["identitySource"],
            **{key: value for key, value in optional.items() if value is not None},
        )
        return str(created["id"])

    def _Method(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        extra = {"authorizerId": inputs["authorizerId"]} if inputs.get("authorizerId") else {}
        self.clients["apigateway"].put_method(
            restApiId=inputs["restApi"],
            resourceId=inputs["resourceId"],
            httpMethod=inputs["httpMethod"],
            authorizationType=inputs["authorization"],
            apiKeyRequired=bool(inputs.get("apiKeyRequired")),
            **extra,
        )

    def _Integration(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        optional = {
            "integrationHttpMethod": inputs.get("integrationHttpMethod"),
            "uri": inputs.get("uri"),
            "timeoutInMillis": _int(inputs["timeoutMilliseconds"]) if "timeoutMilliseconds" in inputs else None,
            "requestTemplates": inputs.get("requestTemplates"),
            "responseTransferMode": inputs.get("responseTransferMode"),
        }
        self.clients["apigateway"].put_integration(
            restApiId=inputs["restApi"],
            resourceId=inputs["resourceId"],
            httpMethod=inputs["httpMethod"],
            type=inputs["type"],
            **{key: value for key, value in optional.items() if value is not None},
        )

    def _MethodResponse(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        self.clients["apigateway"].put_method_response(
            restApiId=inputs["restApi"],
            resourceId=inputs["resourceId"],
            httpMethod=inputs["httpMethod"],
            statusCode=inputs["statusCode"],
            responseParameters=inputs.get("responseParameters") or {},
        )

    def _IntegrationResponse(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        extra = {"responseTemplates": inputs["responseTemplates"]} if inputs.get("responseTemplates") else {}
        self.clients["apigateway"].put_integration_response(
            restApiId=inputs["restApi"],
            resourceId=inputs["resourceId"],
            httpMethod=inputs["httpMethod"],
            statusCode=inputs["statusCode"],
            responseParameters=inputs.get("responseParameters") or {},
            **extra,
        )

    def _Response(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        self.clients["apigateway"].put_gateway_response(
            restApiId=inputs["restApiId"],
            responseType=inputs["responseType"],
            responseParameters=inputs.get("responseParameters") or {},
            responseTemplates=inputs.get("responseTemplates") or {},
        )

    def _Deployment(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> str:
        created = self.clients["apigateway"].create_deployment(
            restApiId=inputs["restApi"], description=inputs["description"]
        )
        return str(created["id"])

    def _Stage(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        self.clients["apigateway"].create_stage(
            restApiId=inputs["restApi"],
            stageName=inputs["stageName"],
            deploymentId=inputs["deployment"],
            tracingEnabled=bool(inputs.get("xrayTracingEnabled")),
        )
        access = inputs.get("accessLogSettings")
        if access:
            self.clients["apigateway"].update_stage(
                restApiId=inputs["restApi"],
                stageName=inputs["stageName"],
                patchOperations=[
                    {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": access["destinationArn"]},
                    {"op": "replace", "path": "/accessLogSettings/format", "value": access["format"]},
                ],
            )

    def _Account(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        self.clients["apigateway"].update_account(
            patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": inputs["cloudwatchRoleArn"]}]
        )

    def _Dashboard(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        self.clients["cloudwatch"].put_dashboard(
            DashboardName=inputs["dashboardName"], DashboardBody=inputs["dashboardBody"]
        )

    def _MetricAlarm(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        numbers = ("period", "evaluationPeriods", "datapointsToAlarm")
        names = {key: key[0].upper() + key[1:] for key in inputs if key not in ("dimensions", "name")}
        values = {
            names[key]: (_int(value) if key in numbers else value) for key, value in inputs.items() if key in names
        }
        dimensions = [{"Name": key, "Value": value} for key, value in (inputs.get("dimensions") or {}).items()]
        self.clients["cloudwatch"].put_metric_alarm(AlarmName=reg.name, Dimensions=dimensions, **values)

    def _MethodSettings(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        settings = inputs["settings"]
        names = {"throttlingRateLimit": "throttling/rateLimit", "throttlingBurstLimit": "throttling/burstLimit"}
        unknown = set(settings) - set(names)
        assert not unknown, f"the moto replay does not know method settings {unknown}"
        self.clients["apigateway"].update_stage(
            restApiId=inputs["restApi"],
            stageName=inputs["stageName"],
            patchOperations=[
                {"op": "replace", "path": f"/{inputs['methodPath']}/{names[key]}", "value": f"{float(value):g}"}
                for key, value in settings.items()
            ],
        )

    def _ApiKey(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> str:
        created = self.clients["apigateway"].create_api_key(
            name=reg.name, enabled=bool(inputs.get("enabled")), description=inputs.get("description", "")
        )
        return str(created["id"])

    def _UsagePlan(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> str:
        throttle, quota = inputs["throttleSettings"], inputs["quotaSettings"]
        created = self.clients["apigateway"].create_usage_plan(
            name=reg.name,
            apiStages=[{"apiId": s["apiId"], "stage": s["stage"]} for s in inputs["apiStages"]],
            throttle={"rateLimit": float(throttle["rateLimit"]), "burstLimit": _int(throttle["burstLimit"])},
            quota={"limit": _int(quota["limit"]), "period": quota["period"]},
        )
        return str(created["id"])

    def _UsagePlanKey(self, reg: Registration, inputs: dict[str, Any], state: Mapping[str, Any]) -> None:
        self.clients["apigateway"].create_usage_plan_key(
            usagePlanId=inputs["usagePlanId"], keyId=inputs["keyId"], keyType=inputs["keyType"]
        )
