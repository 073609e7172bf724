"""The bedrock-runtime client, built off the critical path of cold start.

Importing botocore and building a client costs ~150 ms (imports ~100 ms: botocore.compat pulls in urllib3,
http.client and email, botocore.waiter pulls in botocore.docs; client creation ~55 ms, mostly decoding
endpoints.json and the service model). The runtime loop does not need any of it to ask for its first
event, so the client is built on a background thread started at init and joined on first use.
Only botocore is imported (boto3 adds its own import cost and nothing we use).
"""

from __future__ import annotations

import threading
from typing import Any

CONNECT_TIMEOUT_SECONDS = 5
# Longest silence tolerated inside a stream; Bedrock sends events continuously once generating.
READ_TIMEOUT_SECONDS = 120
TOTAL_ATTEMPTS = 3  # the first call and two retries


def build_client() -> Any:
    """A botocore bedrock-runtime client; region and credentials come from the environment.

    ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` (read by botocore itself) redirects it to a local stand-in.
    """
    import os

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
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return session.create_client("bedrock-runtime", region_name=region, config=config)


class BackgroundClient:
    """Build a client on a daemon thread; ``get`` waits for it (and retries once if the build failed)."""

    def __init__(self) -> None:
        self._client: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._build, name="bedrock-client-init", daemon=True)

    def start(self) -> BackgroundClient:
        self._thread.start()
        return self

    def _build(self) -> None:
        try:
            self._client = build_client()
        except BaseException as exc:
            self._error = exc

    def get(self) -> Any:
        self._thread.join()
        if self._client is None:
            # A failed build may have been transient; one synchronous retry, then report the failure.
            self._error = None
            self._build()
            if self._error is not None:
                raise self._error
        return self._client
