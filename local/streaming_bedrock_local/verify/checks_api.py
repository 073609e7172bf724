"""API Gateway checks (pure): endpoint type, the streaming integration, CORS, the deployment and throttling.

Rules and their sources (``/work/shared/reference/aws-streaming.md`` collects them):
- only ``AWS_PROXY``/``HTTP_PROXY`` integrations stream, and only with ``responseTransferMode: STREAM``; the default
  is ``BUFFERED`` (developer guide, response-transfer-mode);
- a Lambda proxy streams only through ``.../2021-11-15/functions/{arn}/response-streaming-invocations``
  (response-transfer-mode-lambda; ``invoke_arn`` with STREAM is rejected, terraform-provider-aws#45649);
- EDGE endpoints cut idle streams after 30 s (REGIONAL/PRIVATE: 5 minutes);
- a deployment is a snapshot: the stage serves what existed when its deployment was made. The stage's export
  (``get_export``, OpenAPI with ``x-amazon-apigateway-integration``, which carries ``responseTransferMode``, see
  the developer guide's response-streaming-http example) is that snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streaming_bedrock_api.api_config import GATEWAY_RESPONSE_TYPES, STREAMING_URI_KIND, TRANSFER_MODE
from streaming_bedrock_api.settings import MAX_INTEGRATION_TIMEOUT_MS

from .observed import Expectations, Json, ObservedApi
from .results import CheckResult, failed, passed

REDEPLOY = "run `pulumi up` again (the component redeploys when its configuration changes)"
INTEGRATION_KEYS = ("type", "httpMethod", "uri", "responseTransferMode", "timeoutInMillis")


def streaming_uri(region: str, function_arn: str) -> str:
    """The Lambda response-streaming integration URI for ``function_arn`` (unqualified)."""
    partition = function_arn.split(":")[1] if function_arn.count(":") >= 2 else "aws"
    return f"arn:{partition}:apigateway:{region}:lambda:path/2021-11-15/functions/{function_arn}/{STREAMING_URI_KIND}"


def transfer_mode(integration: Mapping[str, Any]) -> str:
    # Absent means the documented default.
    return str(integration.get("responseTransferMode") or "BUFFERED")


def check_endpoint(api: ObservedApi) -> CheckResult:
    name, expected = "api.endpoint-type", "REGIONAL (5-minute idle timeout for streams)"
    if api.rest_api is None:
        return failed(name, expected, "the REST API does not exist", "check --api-id / the stack outputs, or redeploy")
    types = list(api.rest_api.get("endpointConfiguration", {}).get("types") or ["EDGE"])
    if types == ["REGIONAL"]:
        return passed(name, expected, "REGIONAL")
    return failed(
        name,
        expected,
        "/".join(types),
        "EDGE endpoints cut a stream after 30 s without a byte; set endpointType REGIONAL and " + REDEPLOY,
    )


def _integration(method: Json | None) -> Json:
    return (method or {}).get("methodIntegration") or {}


def check_integration(api: ObservedApi, exp: Expectations, function_arn: str | None) -> list[CheckResult]:
    """Type, transfer mode and URI of ``POST /{path}``."""
    route = f"POST /{exp.path}"
    if api.post is None:
        return [
            failed(
                "api.integration",
                f"{route} with an AWS_PROXY integration",
                f"no {route} method" + ("" if api.resource_id else f" (no /{exp.path} resource)"),
                "deploy the stack (`pulumi up`); check --url/--stack point at this API",
            )
        ]
    integration = _integration(api.post)
    kind = f"{integration.get('type')} {integration.get('httpMethod')}"
    results = [
        passed("api.integration-type", "AWS_PROXY POST", kind)
        if kind == "AWS_PROXY POST"
        else failed("api.integration-type", "AWS_PROXY POST", kind, "the Lambda proxy integration is " + REDEPLOY)
    ]
    mode = transfer_mode(integration)
    results.append(
        passed("api.transfer-mode", TRANSFER_MODE, mode)
        if mode == TRANSFER_MODE
        else failed(
            "api.transfer-mode",
            TRANSFER_MODE,
            mode,
            f"{mode} makes API Gateway wait for the whole answer; set responseTransferMode STREAM on {route} "
            "and redeploy the stage (" + REDEPLOY + ")",
        )
    )
    uri = str(integration.get("uri") or "")
    expected_uri = streaming_uri(exp.region, function_arn) if function_arn else f".../{STREAMING_URI_KIND}"
    uri_ok = uri == expected_uri if function_arn else uri.endswith("/" + STREAMING_URI_KIND)
    if uri_ok:
        results.append(passed("api.streaming-uri", expected_uri, f".../{STREAMING_URI_KIND}"))
    else:
        buffered = uri.endswith("/invocations") and "/2015-03-31/" in uri
        results.append(
            failed(
                "api.streaming-uri",
                expected_uri,
                uri or "no URI",
                (
                    "this is the function's invoke_arn (buffered invocations); use response_streaming_invoke_arn"
                    if buffered
                    else "point the integration at the unqualified function's response-streaming-invocations URI"
                )
                + " and "
                + REDEPLOY,
            )
        )
    timeout = integration.get("timeoutInMillis")
    if isinstance(timeout, int) and 0 < timeout <= MAX_INTEGRATION_TIMEOUT_MS:
        results.append(passed("api.integration-timeout", f"<= {MAX_INTEGRATION_TIMEOUT_MS} ms", f"{timeout} ms"))
    else:
        results.append(
            failed(
                "api.integration-timeout",
                f"1..{MAX_INTEGRATION_TIMEOUT_MS} ms",
                f"{timeout!r}",
                "set integrationTimeoutMs (at most 900000 with STREAM) and " + REDEPLOY,
            )
        )
    return results


def _has_cors(parameters: Mapping[str, Any], prefix: str) -> bool:
    return any(key.startswith(f"{prefix}Access-Control-") for key in parameters)


def check_preflight(api: ObservedApi, exp: Expectations) -> CheckResult:
    name = "api.cors-preflight"
    expected = f"OPTIONS /{exp.path}: MOCK, no auth, 200 with Access-Control-Allow-Methods/-Headers/-Origin"
    if api.options is None:
        return failed(name, expected, "no OPTIONS method", "browsers cannot call the API cross-origin; " + REDEPLOY)
    integration = _integration(api.options)
    response = (integration.get("integrationResponses") or {}).get("200") or {}
    parameters = response.get("responseParameters") or {}
    templates = "".join((response.get("responseTemplates") or {}).values())
    header = "method.response.header.Access-Control-Allow-"
    has_origin = f"{header}Origin" in parameters or "Access-Control-Allow-Origin" in templates
    methods = str(parameters.get(f"{header}Methods", ""))
    problems = []
    if api.options.get("authorizationType") not in (None, "NONE") or api.options.get("apiKeyRequired"):
        problems.append("the preflight requires auth (browsers send none)")
    if integration.get("type") != "MOCK":
        problems.append(f"integration {integration.get('type')} instead of MOCK")
    if not has_origin:
        problems.append("no Access-Control-Allow-Origin")
    if "POST" not in methods:
        problems.append("Access-Control-Allow-Methods lacks POST")
    if f"{header}Headers" not in parameters:
        problems.append("no Access-Control-Allow-Headers")
    if problems:
        return failed(name, expected, "; ".join(problems), "restore the component's OPTIONS mock: " + REDEPLOY)
    return passed(name, expected, f"MOCK, Allow-Methods {methods.strip(chr(39))}")


def check_gateway_responses(api: ObservedApi) -> CheckResult:
    name = "api.cors-gateway-responses"
    expected = f"{', '.join(GATEWAY_RESPONSE_TYPES)} carry CORS headers"
    missing = [
        kind
        for kind in GATEWAY_RESPONSE_TYPES
        if not _has_cors(
            (api.gateway_responses.get(kind) or {}).get("responseParameters") or {}, "gatewayresponse.header."
        )
    ]
    if missing:
        return failed(
            name,
            expected,
            f"no CORS headers on {', '.join(missing)}",
            "browsers hide the gateway's own 401/403/429/5xx behind a CORS error; " + REDEPLOY,
        )
    return passed(name, expected, "CORS headers on " + ", ".join(GATEWAY_RESPONSE_TYPES))


def _deployed_integration(deployed: Json, path: str, method: str) -> Json | None:
    operation = ((deployed.get("paths") or {}).get(f"/{path}") or {}).get(method.lower())
    if not isinstance(operation, Mapping):
        return None
    integration = operation.get("x-amazon-apigateway-integration")
    return integration if isinstance(integration, Mapping) else {}


def _comparable(integration: Mapping[str, Any]) -> dict[str, str]:
    # Exports spell the type in lower case ("aws_proxy"); timeouts may come back as strings.
    values = {key: str(integration.get(key, "")) for key in INTEGRATION_KEYS}
    values["type"] = values["type"].upper()
    values["responseTransferMode"] = transfer_mode(integration)
    return values


def check_deployment(api: ObservedApi, exp: Expectations) -> CheckResult:
    """The stage exists and its deployment serves today's POST integration and the preflight."""
    name = "api.deployment"
    expected = f"stage {exp.stage_name} serves the current POST and OPTIONS /{exp.path}"
    if api.stage is None:
        return failed(name, expected, f"no stage {exp.stage_name}", "deploy the stack (`pulumi up`)")
    deployment_id = api.stage.get("deploymentId")
    if api.deployed is None:
        return failed(name, expected, f"stage {exp.stage_name} has no deployment", REDEPLOY)
    deployed_post = _deployed_integration(api.deployed, exp.path, "POST")
    deployed_options = _deployed_integration(api.deployed, exp.path, "OPTIONS")
    stale = f"deployment {deployment_id} is stale: "
    fix = (
        f"redeploy: {REDEPLOY}, or `aws apigateway create-deployment --rest-api-id {exp.api_id} "
        f"--stage-name {exp.stage_name}`"
    )
    if deployed_post is None or deployed_options is None:
        absent = [m for m, i in (("POST", deployed_post), ("OPTIONS", deployed_options)) if i is None]
        return failed(name, expected, stale + f"it has no {' or '.join(absent)} /{exp.path}", fix)
    live, snapshot = _comparable(_integration(api.post)), _comparable(deployed_post)
    # AWS documents responseTransferMode in the OpenAPI extension, but not whether an export always writes it:
    # compared only when the export has it (a snapshot that buffers without saying so still fails the probe).
    keys = [key for key in INTEGRATION_KEYS if key != "responseTransferMode" or key in deployed_post]
    differences = [
        f"{key} {snapshot[key] or '-'} (now {live[key] or '-'})" for key in keys if live[key] != snapshot[key]
    ]
    if differences:
        return failed(name, expected, stale + "it serves POST with " + ", ".join(differences), fix)
    return passed(name, expected, f"deployment {deployment_id} matches the API")


def check_throttling(api: ObservedApi) -> CheckResult:
    name, expected = "api.throttling", "stage method settings */* with a rate and burst limit"
    settings = ((api.stage or {}).get("methodSettings") or {}).get("*/*") or {}
    rate, burst = settings.get("throttlingRateLimit"), settings.get("throttlingBurstLimit")
    if isinstance(rate, (int, float)) and isinstance(burst, int) and rate > 0 and burst > 0:
        return passed(name, expected, f"rate {rate:g}/s, burst {burst}")
    return failed(
        name,
        expected,
        f"rate {rate!r}, burst {burst!r}",
        "an unthrottled stage lets one client run up the Bedrock bill; set throttleRateLimit/throttleBurstLimit "
        "and " + REDEPLOY,
    )


def api_checks(api: ObservedApi, exp: Expectations, function_arn: str | None) -> list[CheckResult]:
    results = [check_endpoint(api)]
    if api.rest_api is None:
        return results
    results.extend(check_integration(api, exp, function_arn))
    results.append(check_preflight(api, exp))
    results.append(check_gateway_responses(api))
    results.append(check_deployment(api, exp))
    results.append(check_throttling(api))
    return results
