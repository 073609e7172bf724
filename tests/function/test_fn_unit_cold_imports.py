"""What the function imports before its first ``/next`` with the lean client: nothing it does not need.

Every module imported at init is paid at the memory's CPU share if init is throttled (see function/README.md),
so the heavy ones stay out: botocore and urllib3, http.client, ssl (for an http endpoint), urllib.parse,
uuid/platform, random, traceback.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from bedrock_stream.converse_http import _random, _uuid4

FUNCTION = Path(__file__).resolve().parents[2] / "function"
PROBE = "import sys, json, bedrock_stream.runtime, bedrock_stream.handler; print(json.dumps(sorted(sys.modules)))"
NOT_AT_INIT = ["botocore", "urllib3", "http.client", "ssl", "urllib.parse", "uuid", "platform", "random",
               "traceback", "email", "boto3"]


def test_init_imports_no_heavy_modules_with_the_lean_client() -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(FUNCTION), "PYTHONDONTWRITEBYTECODE": "1",
           "BEDROCK_MODEL_ID": "m", "AWS_REGION": "ap-northeast-1", "AWS_ACCESS_KEY_ID": "a",
           "AWS_SECRET_ACCESS_KEY": "b", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=30,
                         check=True).stdout.splitlines()
    assert json.loads(out[0]) == {"level": "INFO", "message": "bedrock client", "client": "lean"}
    modules = set(json.loads(out[-1]))
    assert "bedrock_stream.converse_http" in modules
    assert sorted(m for m in NOT_AT_INIT if m in modules) == []


def test_invocation_ids_are_uuid4_and_jitter_is_in_range() -> None:
    ids = {_uuid4() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i) for i in ids)
    values = [_random() for _ in range(1000)]
    assert all(0.0 <= v < 1.0 for v in values) and 0.3 < sum(values) / len(values) < 0.7
