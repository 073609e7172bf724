"""The Lambda handler: ``bedrock_stream.handler.handle(event, context, stream)``.

Init (module import) reads the configuration (a bad value fails init) and builds the Bedrock client, so that
work happens before the runtime's first ``GET /next`` (init runs at full CPU, invocations at the memory's share).
"""

from __future__ import annotations

import os

from bedrock_stream.bedrock_client import InitClient
from bedrock_stream.config import load_config
from bedrock_stream.contract import InvocationContext, ResponseStream
from bedrock_stream.relay import Relay

_CONFIG = load_config(os.environ)
_CLIENT = InitClient()
_RELAY = Relay(_CONFIG, _CLIENT.get)


def handle(event: object, context: InvocationContext, stream: ResponseStream) -> None:
    """Stream the model's answer to the request in ``event`` (an API Gateway REST proxy event)."""
    _RELAY(event, context, stream)
