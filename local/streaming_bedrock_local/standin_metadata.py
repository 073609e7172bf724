"""What Bedrock accepts in ConverseStream ``requestMetadata``, enforced by the stand-in (pure).

At most 16 entries; keys 1-256 and values 0-256 characters of ``[a-zA-Z0-9\\s:_@$#=/+,-.]`` (botocore's
bedrock-runtime service model, shapes ``RequestMetadata``, ``RequestMetadataKeyString`` and
``RequestMetadataValueString``; ConverseStream API reference,
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html). Bedrock answers a
violation with a ValidationException; so does the stand-in (``ValueError`` here, mapped by the server).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_ENTRIES = 16
# The service validates with Java regexes, where \s is ASCII whitespace only: re.ASCII, and fullmatch (a Python "$"
# would also accept one character too many when it is a trailing newline).
_KEY = re.compile(r"[a-zA-Z0-9\s:_@$#=/+,\-.]{1,256}", re.ASCII)
_VALUE = re.compile(r"[a-zA-Z0-9\s:_@$#=/+,\-.]{0,256}", re.ASCII)


def check_request_metadata(body: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` (Bedrock's ValidationException) when ``requestMetadata`` breaks Bedrock's rules."""
    if "requestMetadata" not in body:
        return
    metadata = body["requestMetadata"]
    if not isinstance(metadata, dict) or not 1 <= len(metadata) <= MAX_ENTRIES:
        raise ValueError(f"requestMetadata must be a map of 1 to {MAX_ENTRIES} entries")
    for key, value in metadata.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError(f"requestMetadata key {key!r} does not match the allowed pattern")
        if not isinstance(value, str) or not _VALUE.fullmatch(value):
            raise ValueError(f"requestMetadata value for {key!r} does not match the allowed pattern")
