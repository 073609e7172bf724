"""What Amazon Bedrock's ConverseStream refuses with ``ValidationException`` (pure; the stand-in's strictness).

:func:`check_converse_request` raises :class:`ConverseValidationError` whose message is worded as Bedrock (or,
for shapes Bedrock never receives from an SDK, as botocore) words it, so a test through the function sees the
text a real deployment would show. This copy of the model rules is deliberately independent of the function's
``bedrock_stream.model_rules``: the stand-in is the oracle the function is tested against.

Request shape: ConverseStream API reference
(https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html) and botocore's
``bedrock-runtime`` service model, which ``tests/local/test_local_converse_rules.py`` compares these field
lists with, so every documented field (toolConfig, guardrailConfig, additionalModelRequestFields,
requestMetadata, reasoning and tool content blocks, ...) is accepted and only unknown ones are refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from streaming_bedrock_api.model_limits import claude_model, output_token_limit

# ConverseStreamRequest body members (modelId travels in the URL path).
REQUEST_FIELDS = frozenset({
    "messages", "system", "inferenceConfig", "toolConfig", "guardrailConfig", "projectIdentifier",
    "additionalModelRequestFields", "promptVariables", "additionalModelResponseFieldPaths", "requestMetadata",
    "performanceConfig", "serviceTier", "outputConfig",
})
MESSAGE_FIELDS = frozenset({"role", "content"})
# ContentBlock is a union: exactly one of these per block.
CONTENT_BLOCK_MEMBERS = frozenset({
    "text", "image", "document", "video", "audio", "toolUse", "toolResult", "guardContent", "cachePoint",
    "reasoningContent", "citationsContent", "searchResult", "toolAddition", "toolRemoval",
})
SYSTEM_BLOCK_MEMBERS = frozenset({"text", "guardContent", "cachePoint"})
INFERENCE_CONFIG_FIELDS = frozenset({"maxTokens", "temperature", "topP", "stopSequences"})
GUARDRAIL_CONFIG_FIELDS = frozenset({"guardrailIdentifier", "guardrailVersion", "trace", "streamProcessingMode"})
TOOL_CONFIG_FIELDS = frozenset({"tools", "toolChoice"})
PERFORMANCE_CONFIG_FIELDS = frozenset({"latency"})
OUTPUT_CONFIG_FIELDS = frozenset({"textFormat", "effort"})
SERVICE_TIER_FIELDS = frozenset({"type"})

class ConverseValidationError(ValueError):
    """Bedrock would answer ``ValidationException`` (HTTP 400) with this message."""


def refuses_temperature_with_top_p(model_id: str) -> bool:
    """Claude Opus 4.1 and later refuse both (aws-samples/bedrock-access-gateway#191: Haiku 4.5 through
    ConverseStream; BerriAI/litellm#15070: Sonnet 4.5; open-webui/pipelines#546: Opus 4.1; Anthropic's "Migrating
    to Claude 4.5"). Claude Sonnet 4 / Opus 4 and Claude 3.x accept both."""
    model = claude_model(model_id)
    return model is not None and model[1:] >= (4, 1)


def _unknown(where: str, value: Mapping[str, Any], known: frozenset[str]) -> None:
    # An SDK never sends such a request: botocore refuses it before sending, with this wording
    # (ParamValidationError "Unknown parameter in ..."). A client without botocore's validation (a lean or
    # hand-written one) would reach Bedrock, which refuses input outside its model; the stand-in answers
    # ValidationException so either kind of client learns about the typo.
    for name in value:
        if name not in known:
            raise ConverseValidationError(
                f'Unknown parameter in {where}: "{name}", must be one of: {", ".join(sorted(known))}'
            )


def _object(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConverseValidationError(f"Invalid type for parameter {where}, value: {value!r}, expected: structure")
    return value


def _union(where: str, block: Any, members: frozenset[str]) -> str:
    block = _object(where, block)
    _unknown(where, block, members)
    if len(block) != 1:
        raise ConverseValidationError(
            f"Invalid number of parameters set for tagged union structure {where}. Can only set one of the "
            f"following keys: {', '.join(sorted(members))}."
        )
    return str(next(iter(block)))


def _blank(text: Any) -> bool:
    return not isinstance(text, str) or not text.strip()


def _range(where: str, value: Any, low: float, high: float | None) -> None:
    # Bedrock's constraint wording, e.g. "Value '1.5' at 'inferenceConfig.temperature' failed to satisfy
    # constraint: Member must have value less than or equal to 1" (stdapi-ai/stdapi.ai#224, measured live).
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConverseValidationError(f"Invalid type for parameter {where}, value: {value!r}, expected: number")
    if value < low:
        raise ConverseValidationError(
            f"Value '{value}' at '{where}' failed to satisfy constraint: Member must have value greater than or "
            f"equal to {low:g}"
        )
    if high is not None and value > high:
        raise ConverseValidationError(
            f"Value '{value}' at '{where}' failed to satisfy constraint: Member must have value less than or "
            f"equal to {high:g}"
        )


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, Sequence) or isinstance(messages, (str, bytes)) or not messages:
        raise ConverseValidationError("A conversation must start with a user message. Try again with a "
                                      "conversation that starts with a user message.")
    previous = None
    for i, message in enumerate(messages):
        message = _object(f"messages[{i}]", message)
        _unknown(f"messages[{i}]", message, MESSAGE_FIELDS)
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise ConverseValidationError(
                f"Value '{role}' at 'messages.{i + 1}.member.role' failed to satisfy constraint: Member must "
                "satisfy enum value set: [user, assistant]"
            )
        # dify#12340 and langchain-aws#130 quote these two messages from ConverseStream/Converse.
        if i == 0 and role != "user":
            raise ConverseValidationError("A conversation must start with a user message. Try again with a "
                                          "conversation that starts with a user message.")
        if role == previous:
            raise ConverseValidationError("A conversation must alternate between user and assistant roles. Make "
                                          "sure the conversation alternates between user and assistant roles and "
                                          "try again.")
        previous = role
        content = message.get("content")
        if not isinstance(content, Sequence) or isinstance(content, (str, bytes)) or not content:
            raise ConverseValidationError(f"The content field in the Message object at messages.{i} is empty. "
                                          "Add a ContentBlock object to the content field and try again.")
        for j, block in enumerate(content):
            kind = _union(f"messages[{i}].content[{j}]", block, CONTENT_BLOCK_MEMBERS)
            # Empty *and* whitespace-only text is refused (langchain-ai/langchainjs#8618 quotes this message for
            # blocks of spaces/newlines; NousResearch/hermes-agent#60628 for a single space).
            if kind == "text" and _blank(block["text"]):
                raise ConverseValidationError(
                    f"The text field in the ContentBlock object at messages.{i}.content.{j} is blank. Add text "
                    "to the text field, and try again."
                )


def _check_system(system: Any) -> None:
    if not isinstance(system, Sequence) or isinstance(system, (str, bytes)):
        raise ConverseValidationError(f"Invalid type for parameter system, value: {system!r}, expected: list")
    for i, block in enumerate(system):
        kind = _union(f"system[{i}]", block, SYSTEM_BLOCK_MEMBERS)
        if kind == "text" and _blank(block["text"]):
            # Same rule as message text; the exact wording for system blocks is unconfirmed.
            raise ConverseValidationError(
                f"The text field in the SystemContentBlock object at system.{i} is blank. Add text to the text "
                "field, and try again."
            )


def _check_inference(model_id: str, config: Any) -> None:
    config = _object("inferenceConfig", config)
    _unknown("inferenceConfig", config, INFERENCE_CONFIG_FIELDS)
    if "maxTokens" in config:
        max_tokens = config["maxTokens"]
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
            raise ConverseValidationError(
                f"Invalid type for parameter inferenceConfig.maxTokens, value: {max_tokens!r}, expected: integer"
            )
        _range("inferenceConfig.maxTokens", max_tokens, 1, None)
        limit = output_token_limit(model_id)
        if limit is not None and max_tokens > limit:
            # vercel/ai#2772, BerriAI/litellm#5656, anthropics/claude-code#18578 quote this wording.
            raise ConverseValidationError(
                f"The maximum tokens you requested exceeds the model limit of {limit}. Try again with a maximum "
                f"tokens value that is lower than {limit}."
            )
    for name in ("temperature", "topP"):
        if name in config:
            _range(f"inferenceConfig.{name}", config[name], 0, 1)
    if "temperature" in config and "topP" in config and refuses_temperature_with_top_p(model_id):
        raise ConverseValidationError(
            "The model returned the following errors: `temperature` and `top_p` cannot both be specified for "
            "this model. Please use only one."
        )


_NESTED: Mapping[str, frozenset[str]] = {
    "guardrailConfig": GUARDRAIL_CONFIG_FIELDS,
    "toolConfig": TOOL_CONFIG_FIELDS,
    "performanceConfig": PERFORMANCE_CONFIG_FIELDS,
    "outputConfig": OUTPUT_CONFIG_FIELDS,
    "serviceTier": SERVICE_TIER_FIELDS,
}


def check_converse_request(model_id: str, body: Mapping[str, Any]) -> None:
    """Raise :class:`ConverseValidationError` for a ConverseStream body Bedrock would refuse for ``model_id``."""
    _unknown("input", body, REQUEST_FIELDS)
    for name, known in _NESTED.items():
        if name in body:
            _unknown(name, _object(name, body[name]), known)
    _check_messages(body.get("messages"))
    if "system" in body:
        _check_system(body["system"])
    if "inferenceConfig" in body:
        _check_inference(model_id, body["inferenceConfig"])
