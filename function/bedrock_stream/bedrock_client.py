"""The bedrock-runtime client, built during init: the lean standard-library client, or botocore.

Importing botocore and building a client costs ~150 ms at full CPU (imports ~100 ms: botocore.compat pulls in
urllib3, http.client and email, botocore.waiter pulls in botocore.docs; client creation ~55 ms, mostly decoding
endpoints.json and the service model), and about seven times that at 256 MB's CPU share. So the function uses
:mod:`converse_http` (SigV4, one keep-alive connection, the event-stream decoder; botocore is its oracle in the
tests) whenever the environment is one it serves: Lambda's, with the role's credentials in environment variables.
Otherwise (``aws_env.lean_unsupported`` says why, e.g. SnapStart's container credentials, a proxy, or
``BEDROCK_CLIENT=botocore``) it builds the botocore client as before. Either way the client is built, and its
connection opened, before the runtime's first ``GET /next``: init appears to run unthrottled, invocations do not.
Only botocore is imported on that path, not boto3.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

CONNECT_TIMEOUT_SECONDS = 5
# Longest silence tolerated inside a stream; Bedrock sends events continuously once generating.
READ_TIMEOUT_SECONDS = 120
TOTAL_ATTEMPTS = 3  # the first call and two retries


def build_botocore_client(env: Mapping[str, str]) -> Any:
    """A botocore bedrock-runtime client; region and credentials come from the environment.

    ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` (read by botocore itself) redirects it to a local stand-in.
    """
    import botocore.config
    import botocore.session

    session = botocore.session.Session()
    config = botocore.config.Config(
        retries={"mode": "standard", "total_max_attempts": TOTAL_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        tcp_keepalive=True,
        user_agent_extra="streaming-bedrock-api",
    )
    # botocore reads only AWS_DEFAULT_REGION; Lambda sets both, a local run may set only AWS_REGION.
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    return session.create_client("bedrock-runtime", region_name=region, config=config)


def _log_choice(client: str, reason: str | None) -> None:
    fields = {"level": "INFO", "message": "bedrock client", "client": client}
    if reason:
        fields["reason"] = reason
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def build_client(env: Mapping[str, str] = os.environ) -> Any:
    """The lean client (connection opened now) where it serves ``env``, else botocore's; logs which."""
    from bedrock_stream.aws_env import lean_unsupported

    reason = lean_unsupported(env)
    if reason is not None:
        client = build_botocore_client(env)
        _log_choice("botocore", reason)
        return client
    from bedrock_stream.converse_http import build_lean_client

    client = build_lean_client(env)
    client.warm()
    _log_choice("lean", None)
    return client


class InitClient:
    """The client, built during init (before the runtime's first ``GET /next``).

    Lambda appears to run init at full CPU and the invoke phase at the memory's share (see the function
    README's cold-start section), so work done here costs a fraction of what it costs in the first
    invocation. A failed build is kept and retried once on first use, so a transient failure at init
    becomes a 500 for one request (``function_init_failed``) at worst, not a dead environment.
    """

    def __init__(self, build: Callable[[], Any] = build_client) -> None:
        self._build = build
        self._client: Any = None
        self._error: BaseException | None = None
        try:
            self._client = build()
        except Exception as exc:
            self._error = exc

    def get(self) -> Any:
        if self._client is None:
            self._client = self._build()  # raises to the relay, which answers function_init_failed
            self._error = None
        return self._client
