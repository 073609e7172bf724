"""Rules over a whole stack (what a stack policy sees after the program ran). Pure functions over a StackView.

Each takes the view, a :class:`Findings` to note undecided values in, and ``report(message, urn)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .model import (
    AUTH_TAG,
    DEFAULT_ENDPOINT_TYPE,
    DEFAULT_LAMBDA_TIMEOUT_S,
    INTEGRATION,
    METHOD,
    METHOD_SETTINGS,
    PUBLIC_METHODS_CONFIG,
    PUBLIC_TAG,
    REST_API,
    STAGE,
    STREAMING_ENDPOINT_TYPES,
    USAGE_PLAN,
    Findings,
    Unknown,
    as_list,
    integration_timeout_ms,
    labelled,
    number_text,
    upper,
)
from .stack_view import Node, StackView


def endpoint_findings(view: StackView, found: Findings, report: Callable[[str, str], None]) -> None:
    seen: set[str] = set()
    for integration in view.streaming_integrations(found):
        for api in view.apis_of(integration, found):
            if api.urn in seen:
                continue
            seen.add(api.urn)
            config = api.get("endpointConfiguration")
            if isinstance(config, Unknown):
                found.undecided.append(config)
                continue
            types = config.get("types") if isinstance(config, Mapping) else None
            if isinstance(types, Unknown):
                found.undecided.append(types)
                continue
            values = [upper(t) for t in as_list(types)] or [DEFAULT_ENDPOINT_TYPE]
            if any(isinstance(t, Unknown) for t in values):
                found.undecided.extend(t for t in values if isinstance(t, Unknown))
                continue
            if not all(t in STREAMING_ENDPOINT_TYPES for t in values):
                report(
                    f"{labelled('REST API', api.name)} carries the STREAM {labelled('integration', integration.name)} "
                    f"but its endpoint type is {'/'.join(map(str, values))}; use REGIONAL or PRIVATE "
                    "(EDGE endpoints cut a stream after 30 seconds without bytes).",
                    api.urn,
                )


def function_timeout_findings(view: StackView, found: Findings, report: Callable[[str, str], None]) -> None:
    for integration in view.streaming_integrations(found):
        timeout_ms = integration_timeout_ms(integration.props)
        if isinstance(timeout_ms, Unknown):
            found.undecided.append(timeout_ms)
            continue
        for function in view.function_of(integration, found):
            timeout_s = function.get("timeout")
            timeout_s = DEFAULT_LAMBDA_TIMEOUT_S if timeout_s is None else timeout_s
            if isinstance(timeout_s, Unknown):
                found.undecided.append(timeout_s)
                continue
            if not isinstance(timeout_s, (int, float)) or timeout_s * 1000 < timeout_ms:
                report(
                    f"{labelled('Lambda function', function.name)} has timeout {number_text(timeout_s)} s, shorter "
                    f"than the {number_text(timeout_ms)} ms of the STREAM {labelled('integration', integration.name)} "
                    "that calls it; the stream would end early. Set the function timeout to at least "
                    f"{-(-int(timeout_ms) // 1000)} s.",
                    function.urn,
                )


def _is_public(method: Node) -> Any:
    """True/False, or the Unknown that keeps us from telling (API-key-only methods are not public)."""
    authorization, key_required = method.get("authorization"), method.get("apiKeyRequired")
    for value in (authorization, key_required):
        if isinstance(value, Unknown):
            return value
    return upper(authorization) == "NONE" and key_required is not True


def _tag_declares_public(api: Node) -> bool:
    for key in ("tags", "tagsAll"):
        tags = api.get(key)
        if not isinstance(tags, Mapping):
            continue
        if str(tags.get(PUBLIC_TAG, "")).lower() == "true" or str(tags.get(AUTH_TAG, "")).lower() == "none":
            return True
    return False


def public_method_findings(
    view: StackView, found: Findings, report: Callable[[str, str], None], declared: Sequence[str]
) -> None:
    for method in view.of_type(METHOD):
        public = _is_public(method)
        if isinstance(public, Unknown):
            found.undecided.append(public)
            continue
        if not public:
            continue
        http_method = upper(method.get("httpMethod"))
        integrations = [i for i in view.of_type(INTEGRATION) if view.same_method(method, i) is True]
        # A CORS preflight answered by API Gateway itself (MOCK) runs no code and must be open: browsers
        # never send credentials on OPTIONS.
        if http_method == "OPTIONS" and integrations and all(upper(i.get("type")) == "MOCK" for i in integrations):
            continue
        apis = view.linked(method, "restApi", REST_API, found)
        if any(_tag_declares_public(api) for api in apis):
            continue
        path = view.resource_path(method, found)
        if isinstance(path, Unknown) and any(entry.startswith("/") or " /" in entry for entry in declared):
            # A path declaration cannot be matched before the path is known (first preview).
            found.undecided.append(path)
            continue
        names = {method.name, method.urn}
        if isinstance(path, str):
            names |= {path, f"{http_method} {path}"}
        if names & set(declared):
            continue
        where = f"{http_method} {path}" if isinstance(path, str) else str(http_method)
        report(
            f"{labelled('Method', method.name)} ({where}) has authorization NONE and needs no API key, so anyone can "
            f"call it. If that is intended, declare it: tag the REST API {PUBLIC_TAG}=true (the component tags "
            f"{AUTH_TAG}=none when auth is none), or list "
            f"'{method.name}' or '{where}' in this policy's '{PUBLIC_METHODS_CONFIG}' config.",
            method.urn,
        )


def _throttled(block: Any, rate_key: str, burst_key: str, allow_zero: bool) -> Any:
    """Whether a throttle block sets both limits (0 counts only with ``allow_zero``); or the blocking Unknown."""
    if isinstance(block, Unknown):
        return block
    if isinstance(block, list):  # some provider versions model the block as a one-item list
        block = block[0] if block else None
    if not isinstance(block, Mapping):
        return False
    rate, burst = block.get(rate_key), block.get(burst_key)
    for value in (rate, burst):
        if isinstance(value, Unknown):
            return value
    return all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and (v > 0 or (allow_zero and v == 0))
        for v in (rate, burst)
    )


def _throttled_settings(settings: Any) -> Any:
    # -1 is the provider's "throttling disabled"; 0 is a (closed) limit.
    return _throttled(settings, "throttlingRateLimit", "throttlingBurstLimit", allow_zero=True)


def _throttled_plan(plan: Any) -> Any:
    throttle = plan.get("throttleSettings") if isinstance(plan, Mapping) else None
    return _throttled(throttle, "rateLimit", "burstLimit", allow_zero=False)


def stage_throttle_findings(view: StackView, found: Findings, report: Callable[[str, str], None]) -> None:
    for api in view.of_type(REST_API):
        streaming = [
            i
            for i in view.streaming_integrations(Findings())
            if any(linked.urn == api.urn for linked in view.apis_of(i, Findings()))
        ]
        if not streaming:
            continue
        stream_methods = [m for m in view.of_type(METHOD) for i in streaming if view.same_method(m, i) is True]
        method_paths = {"*/*"}
        unknown_path: Unknown | None = None
        for integration in streaming:
            path = view.resource_path(integration, Findings())
            if isinstance(path, str):
                method_paths.add(f"{path.lstrip('/') or '~1'}/{upper(integration.get('httpMethod'))}")
            elif isinstance(path, Unknown):
                unknown_path = path
        for stage in view.of_type(STAGE):
            on_api = view.refers(stage, "restApi", api)
            if isinstance(on_api, Unknown):
                found.undecided.append(on_api)
                continue
            if not on_api:
                continue
            verdict = _stage_is_throttled(view, api, stage, method_paths, unknown_path, stream_methods)
            if isinstance(verdict, Unknown):
                found.undecided.append(verdict)
            elif not verdict:
                report(
                    f"{labelled('Stage', str(stage.get('stageName') or stage.name))} of "
                    f"{labelled('REST API', api.name)} serves a STREAM integration without throttling: add "
                    "aws.apigateway.MethodSettings on the stage (method_path '*/*', throttling_rate_limit and "
                    "throttling_burst_limit >= 0), or a usage plan with throttle settings when every streaming method "
                    "requires an API key.",
                    stage.urn,
                )


def _stage_is_throttled(
    view: StackView,
    api: Node,
    stage: Node,
    method_paths: set[str],
    unknown_path: Unknown | None,
    stream_methods: list[Node],
) -> Any:
    """True, False, or the Unknown that keeps us from telling (``unknown_path``: a streaming resource path
    not known yet, so a method-specific MethodSettings cannot be matched under preview)."""
    pending: Unknown | None = None
    for settings in view.of_type(METHOD_SETTINGS):
        links = (view.refers(settings, "restApi", api), view.refers(settings, "stageName", stage, "stageName"))
        if any(link is False for link in links):
            continue
        path = settings.get("methodPath")
        throttled = _throttled_settings(settings.get("settings"))
        for value in (*links, path, throttled):
            if isinstance(value, Unknown):
                pending = pending or value
        if all(link is True for link in links) and throttled is True:
            if path in method_paths:
                return True
            if unknown_path is not None and isinstance(path, str):
                pending = pending or unknown_path
    # Usage plans only meter requests that carry an API key, so they count only when every streaming method
    # demands one.
    keyed = bool(stream_methods) and all(m.get("apiKeyRequired") is True for m in stream_methods)
    if keyed:
        for plan in view.of_type(USAGE_PLAN):
            stages = plan.get("apiStages")
            deps = plan.deps.get("apiStages", frozenset())
            throttled = _throttled_plan(plan.props)
            for entry in as_list(stages) if not isinstance(stages, Unknown) else []:
                if not isinstance(entry, Mapping):
                    continue
                api_ok = api.urn in deps or (entry.get("apiId") is not None and entry.get("apiId") == api.get("id"))
                stage_ok = entry.get("stage") == stage.get("stageName") and not isinstance(entry.get("stage"), Unknown)
                if isinstance(entry.get("stage"), Unknown) and stage.urn in deps:
                    stage_ok = True
                if api_ok and stage_ok and throttled is True:
                    return True
                if isinstance(throttled, Unknown):
                    pending = pending or throttled
            if isinstance(stages, Unknown):
                pending = pending or stages
    return pending if pending is not None else False
