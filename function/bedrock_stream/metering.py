"""Per-client metering (pure): who called, and how much they used.

API Gateway puts the id of the caller's API key in ``requestContext.identity.apiKeyId``; the component passes the
map ``{key id: client name}`` in ``CLIENT_KEY_IDS`` (JSON). Each invocation then

* emits one EMF document with the ``Client`` dimension (requests, input/output/cache tokens, time to first token),
  next to the per-model one in :mod:`observability`;
* tags its ConverseStream call with ``requestMetadata {"client": <name>}`` so Bedrock's model invocation logs can
  be filtered by client. Bedrock allows at most 16 entries, keys of 1-256 and values of 0-256 characters from
  ``[a-zA-Z0-9\\s:_@$#=/+,-.]`` (botocore's bedrock-runtime model, shape ``RequestMetadata``; ConverseStream API
  reference); client names are restricted to a subset of that, and anything else is dropped rather than sent.

A key id that is not in the map (a key created outside the component) meters as ``unknown``; a request without a
key (auth iam, cognito or none) carries no client.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bedrock_stream.observability import InvocationRecord, emf_document

KEY_IDS_ENV = "CLIENT_KEY_IDS"
UNKNOWN_CLIENT = "unknown"
CLIENT_DIMENSION = "Client"
REQUEST_METADATA_KEY = "client"
# Metric name -> unit of the per-client EMF document.
CLIENT_METRICS: dict[str, str] = {
    "Requests": "Count",
    "InputTokens": "Count",
    "OutputTokens": "Count",
    "CacheReadInputTokens": "Count",
    "CacheWriteInputTokens": "Count",
    "TimeToFirstToken": "Milliseconds",
}
# ASCII \s and a full match, as the service's (Java) pattern means it (standin_metadata.py says why).
_METADATA_VALUE = re.compile(r"[a-zA-Z0-9\s:_@$#=/+,\-.]{0,256}", re.ASCII)


def parse_key_ids(raw: str) -> dict[str, str]:
    """The ``CLIENT_KEY_IDS`` value as a dict; ``ValueError`` naming the problem when it is not one."""
    if not raw.strip():
        return {}
    try:
        document = json.loads(raw)
    except ValueError:
        raise ValueError(f"{KEY_IDS_ENV} must be a JSON object of key id -> client name") from None
    if not isinstance(document, dict) or not all(
        isinstance(key, str) and isinstance(value, str) and value for key, value in document.items()
    ):
        raise ValueError(f"{KEY_IDS_ENV} must be a JSON object of key id -> client name")
    return document


def client_for(event: object, key_ids: Mapping[str, str]) -> str | None:
    """The client that sent ``event`` (an API Gateway REST proxy event), or None without an API key."""
    if not isinstance(event, Mapping):
        return None
    context = event.get("requestContext")
    identity = context.get("identity") if isinstance(context, Mapping) else None
    key_id = identity.get("apiKeyId") if isinstance(identity, Mapping) else None
    if not isinstance(key_id, str) or not key_id:
        return None
    return key_ids.get(key_id, UNKNOWN_CLIENT)


def request_metadata(client: str | None) -> dict[str, str]:
    """ConverseStream ``requestMetadata`` naming the client (empty when there is none or it is not sendable)."""
    if client is None or not _METADATA_VALUE.fullmatch(client):
        return {}
    return {REQUEST_METADATA_KEY: client}


def with_request_metadata(arguments: Mapping[str, Any], client: str | None) -> dict[str, Any]:
    """``arguments`` of a ConverseStream call plus the client's requestMetadata."""
    metadata = request_metadata(client)
    return {**arguments, "requestMetadata": metadata} if metadata else dict(arguments)


def client_emf_line(
    record: InvocationRecord, namespace: str, timestamp_ms: int, function_name: str = ""
) -> str | None:
    """The per-client EMF document for one invocation (dimensions ``FunctionName`` and ``Client``, see
    :mod:`observability`), or None when the request carried no client."""
    if record.client is None:
        return None
    values: dict[str, tuple[float, str]] = {"Requests": (1, CLIENT_METRICS["Requests"])}
    for name, value in (
        ("InputTokens", record.input_tokens),
        ("OutputTokens", record.output_tokens),
        ("CacheReadInputTokens", record.cache_read_tokens),
        ("CacheWriteInputTokens", record.cache_write_tokens),
        ("TimeToFirstToken", None if record.ttft_ms is None else round(record.ttft_ms, 3)),
    ):
        if value is not None:
            values[name] = (value, CLIENT_METRICS[name])
    return emf_document(
        namespace, timestamp_ms, (CLIENT_DIMENSION, record.client), function_name, record.request_id, values
    )
