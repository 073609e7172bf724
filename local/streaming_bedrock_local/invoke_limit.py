"""Lambda's synchronous invocation payload limit, applied to the proxy event the gateway builds (pure).

API Gateway accepts request bodies up to 10 MB, but the event it hands to Lambda must fit the 6 MB
(6,291,456-byte) invocation payload quota. A larger event fails at Lambda and the client gets
``413 {"message": "Request Too Long"}`` (x-amzn-ErrorType BadRequestException), as observed on a REST API in
koki-develop/lgtm-generator#10; the gateway here answers with its REQUEST_TOO_LARGE response. The component caps
``max_request_bytes`` so that every body it accepts fits (see ``settings.MAX_REQUEST_BYTES_LIMIT``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from streaming_bedrock_api.settings import LAMBDA_INVOKE_PAYLOAD_BYTES


def event_payload_bytes(event: Mapping[str, Any]) -> int:
    """The size of ``event`` as the Runtime API hands it to the function (``json.dumps``, UTF-8)."""
    return len(json.dumps(event).encode("utf-8"))


def fits_invocation(event: Mapping[str, Any]) -> bool:
    return event_payload_bytes(event) <= LAMBDA_INVOKE_PAYLOAD_BYTES
