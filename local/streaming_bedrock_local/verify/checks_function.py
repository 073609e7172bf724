"""Lambda, IAM and CloudWatch Logs checks (pure): the function can stream, may be invoked by this API's method,
may call only its model, and logs where the stack says with the expected retention."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

from streaming_bedrock_api.function import RUNTIME
from streaming_bedrock_api.iam import BEDROCK_ACTIONS, bedrock_policy_document
from streaming_bedrock_api.packaging import HANDLER, WRAPPER_NAME
from streaming_bedrock_api.settings import ARCHITECTURES

from .observed import Expectations, Json, ObservedFunction
from .results import CheckResult, failed, passed

REDEPLOY = "run `pulumi up` again"
EXEC_WRAPPER = "AWS_LAMBDA_EXEC_WRAPPER"
# Lambda unpacks the function's zip into /var/task; the wrapper sits at the zip's top level.
EXPECTED_WRAPPER = f"/var/task/{WRAPPER_NAME}"
APIGATEWAY_PRINCIPAL = "apigateway.amazonaws.com"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def function_environment_of(configuration: Json | None) -> Mapping[str, str]:
    return ((configuration or {}).get("Environment") or {}).get("Variables") or {}


def check_state(function: ObservedFunction, exp: Expectations) -> CheckResult:
    name, expected = "lambda.state", "State Active, LastUpdateStatus Successful"
    config = function.configuration
    if config is None:
        return failed(name, expected, f"no function {exp.function_name}", "check --function-name / the stack outputs")
    state, update = config.get("State"), config.get("LastUpdateStatus")
    found = f"State {state}, LastUpdateStatus {update}"
    if state == "Active" and update in ("Successful", None):
        return passed(name, expected, found)
    reason = config.get("LastUpdateStatusReason") or config.get("StateReason") or ""
    return failed(name, expected, found + (f" ({reason})" if reason else ""), "fix the cause above, then " + REDEPLOY)


def check_runtime(config: Json) -> CheckResult:
    name = "lambda.runtime"
    expected = f"{RUNTIME}, {' or '.join(ARCHITECTURES)}, handler {HANDLER}"
    runtime, arch, handler = config.get("Runtime"), _as_list(config.get("Architectures")), config.get("Handler")
    found = f"{runtime}, {'/'.join(map(str, arch)) or '?'}, handler {handler}"
    if runtime == RUNTIME and len(arch) == 1 and arch[0] in ARCHITECTURES and handler == HANDLER:
        return passed(name, expected, found)
    return failed(name, expected, found, "the function was changed outside the stack; " + REDEPLOY)


def check_wrapper(config: Json) -> CheckResult:
    name, expected = "lambda.exec-wrapper", f"{EXEC_WRAPPER}={EXPECTED_WRAPPER}"
    value = function_environment_of(config).get(EXEC_WRAPPER)
    if value == EXPECTED_WRAPPER:
        return passed(name, expected, f"{EXEC_WRAPPER}={value}")
    return failed(
        name,
        expected,
        f"{EXEC_WRAPPER}={value}" if value else f"{EXEC_WRAPPER} not set",
        "without the wrapper the managed runtime answers buffered; " + REDEPLOY,
    )


def check_timeout(config: Json, integration_timeout_ms: int | None) -> CheckResult:
    name = "lambda.timeout"
    timeout_s = config.get("Timeout")
    expected = f">= the integration timeout ({integration_timeout_ms} ms)"
    if not isinstance(timeout_s, int):
        return failed(name, expected, f"{timeout_s!r}", REDEPLOY)
    if integration_timeout_ms is None or timeout_s * 1000 >= integration_timeout_ms:
        return passed(name, expected, f"{timeout_s} s")
    return failed(
        name,
        expected,
        f"{timeout_s} s",
        "the function is stopped while the stream may still run; raise timeoutSeconds (or lower "
        "integrationTimeoutMs) and " + REDEPLOY,
    )


def _arn_matches(pattern: str, arn: str) -> bool:
    # IAM ArnLike: '*' any run of characters, '?' one character, no other special characters.
    return fnmatch.fnmatchcase(arn, pattern.replace("[", "[[]"))


def _source_arns(statement: Mapping[str, Any]) -> list[str]:
    condition = statement.get("Condition") or {}
    arns: list[str] = []
    for operator in ("ArnLike", "ArnEquals", "StringLike", "StringEquals"):
        for key, value in (condition.get(operator) or {}).items():
            if key.lower() == "aws:sourcearn":
                arns.extend(str(item) for item in _as_list(value))
    return arns


def check_permission(function: ObservedFunction, exp: Expectations, account: str, partition: str) -> CheckResult:
    name = "lambda.invoke-permission"
    method_arn = f"arn:{partition}:execute-api:{exp.region}:{account}:{exp.api_id}/{exp.stage_name}/POST/{exp.path}"
    expected = f"{APIGATEWAY_PRINCIPAL} may lambda:InvokeFunction for {method_arn}"
    for statement in _as_list((function.resource_policy or {}).get("Statement")):
        principal = statement.get("Principal")
        services = _as_list(principal.get("Service")) if isinstance(principal, Mapping) else []
        actions = _as_list(statement.get("Action"))
        if statement.get("Effect") != "Allow" or APIGATEWAY_PRINCIPAL not in services:
            continue
        if not {"lambda:InvokeFunction", "lambda:*"} & set(actions):
            continue
        sources = _source_arns(statement)
        if any(_arn_matches(source, method_arn) for source in sources):
            return passed(name, expected, f"statement {statement.get('Sid')} ({', '.join(sources)})")
    return failed(
        name,
        expected,
        "no statement lets this API's POST method invoke the function",
        "API Gateway answers 500 without it; " + REDEPLOY + " (the component adds the permission)",
    )


def _statements(documents: tuple[tuple[str, Json], ...]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for source, document in documents:
        for statement in _as_list(document.get("Statement")):
            if isinstance(statement, Mapping):
                yield source, statement


def _is_bedrock_action(action: str) -> bool:
    return action == "*" or action.lower().startswith("bedrock:")


def check_bedrock_scope(function: ObservedFunction) -> CheckResult:
    name = "iam.bedrock-scoped"
    expected = "Bedrock statements name actions and resources (no '*', no 'bedrock:*', no Resource '*')"
    wide: list[str] = []
    for source, statement in _statements(function.role_policies):
        if statement.get("Effect") != "Allow":
            continue
        actions = [str(action) for action in _as_list(statement.get("Action")) if _is_bedrock_action(str(action))]
        if not actions:
            continue
        resources = [str(resource) for resource in _as_list(statement.get("Resource"))]
        if any(action == "*" or action.endswith(":*") for action in actions):
            wide.append(f"{source}: Action {', '.join(actions)}")
        elif "*" in resources:
            wide.append(f"{source}: {', '.join(actions)} on Resource '*'")
    if wide:
        return failed(
            name,
            expected,
            "; ".join(wide),
            "remove the wildcard statement: the component's policy grants bedrock:InvokeModelWithResponseStream "
            "on the model only",
        )
    return passed(name, expected, "no wildcard")


def check_bedrock_allows_model(
    function: ObservedFunction, model_id: str, region: str, account: str, partition: str
) -> CheckResult:
    """The role allows streaming calls on every resource the component's policy names for ``model_id``."""
    name = "iam.bedrock-model"
    needed = {
        resource
        for statement in bedrock_policy_document([model_id], region, account, partition)["Statement"]
        for resource in statement["Resource"]
    }
    expected = f"{BEDROCK_ACTIONS[0]} on {', '.join(sorted(needed))}"
    granted = {
        str(resource)
        for _, statement in _statements(function.role_policies)
        if statement.get("Effect") == "Allow"
        and {BEDROCK_ACTIONS[0], "bedrock:*", "*"} & {str(a) for a in _as_list(statement.get("Action"))}
        for resource in _as_list(statement.get("Resource"))
    }
    missing = sorted(needed - granted)
    if not missing:
        return passed(name, expected, f"{model_id} allowed")
    return failed(
        name,
        expected,
        "not allowed: " + ", ".join(missing),
        f"add {model_id} to modelId/additionalModelIds and " + REDEPLOY + " (Bedrock answers AccessDenied otherwise)",
    )


def check_log_group(function: ObservedFunction, exp: Expectations) -> CheckResult:
    name = "logs.retention"
    want = exp.log_retention_days
    expected = f"log group {exp.log_group_name} with " + (f"{want} days retention" if want else "a retention")
    group = function.log_group
    if group is None:
        return failed(name, expected, "no such log group", "the function's logs have nowhere to go; " + REDEPLOY)
    days = group.get("retentionInDays")
    if days is None:
        return failed(name, expected, "never expires", "set logRetentionDays and " + REDEPLOY)
    if want is not None and days != want:
        return failed(name, expected, f"{days} days", f"set logRetentionDays {want} and " + REDEPLOY)
    return passed(name, expected, f"{group.get('logGroupName')}, {days} days")


def function_checks(
    function: ObservedFunction,
    exp: Expectations,
    account: str,
    integration_timeout_ms: int | None,
    model_id: str | None,
) -> list[CheckResult]:
    results = [check_state(function, exp)]
    config = function.configuration
    if config is None:
        return results
    results += [check_runtime(config), check_wrapper(config), check_timeout(config, integration_timeout_ms)]
    partition = str(config.get("FunctionArn", "arn:aws:")).split(":")[1] or "aws"
    results.append(check_permission(function, exp, account, partition))
    results.append(check_bedrock_scope(function))
    if model_id:
        results.append(check_bedrock_allows_model(function, model_id, exp.region, account, partition))
    if exp.log_group_name:
        results.append(check_log_group(function, exp))
    return results
