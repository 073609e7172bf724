"""The bedrock-runtime client, built during init.

Importing botocore and building a client costs ~150 ms at full CPU (imports ~100 ms: botocore.compat pulls in
urllib3, http.client and email, botocore.waiter pulls in botocore.docs; client creation ~55 ms, mostly decoding
endpoints.json and the service model), and about seven times that at 256 MB's CPU share. Init appears to run
unthrottled, the invoke phase does not, so the client is built before the first ``GET /next``.
Only botocore is imported (boto3 adds its own import cost and nothing we use).
"""

from __future__ import annotations

from collections.abc import Callable
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
