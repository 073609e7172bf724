"""A loopback stand-in for the Bedrock control plane's three reads that verify makes, because moto 5.2's bedrock
has none of them (it models customization jobs and logging only).

It speaks the REST-JSON wire format of botocore's ``bedrock`` service model (``GET /inference-profiles/{id}``,
``GET /foundation-models/{id}``, ``GET /foundation-model-availability/{id}``; errors as ``x-amzn-ErrorType`` plus a
JSON ``message``), so real boto3 reaches it through ``AWS_ENDPOINT_URL_BEDROCK``. It answers for one region: a
geographic profile exists only in its source regions, as on AWS. Every request is recorded, so tests can assert
that verify only reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from tests.loopback import serving

HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
AVAILABLE = {
    "authorizationStatus": "AUTHORIZED",
    "entitlementAvailability": "AVAILABLE",
    "agreementAvailability": {"status": "AVAILABLE"},
    "regionAvailability": "AVAILABLE",
}


@dataclass
class Catalog:
    """What Bedrock knows in ``region``: profile ids → destination regions, model ids, availability per model."""

    region: str
    account: str
    profiles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    models: set[str] = field(default_factory=set)
    availability: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def answer(self, method: str, path: str) -> tuple[int, str | None, dict[str, Any]]:
        self.requests.append((method, path))
        parts = [unquote(part) for part in path.split("?")[0].strip("/").split("/")]
        if method != "GET" or len(parts) != 2:
            return 404, "UnknownOperationException", {"message": f"{method} {path}"}
        kind, identifier = parts
        if kind == "inference-profiles" and identifier in self.profiles:
            return 200, None, self._profile(identifier)
        if kind == "foundation-models" and identifier in self.models:
            return 200, None, self._model(identifier)
        if kind == "foundation-model-availability" and identifier in self.models:
            return 200, None, {"modelId": identifier, **self.availability.get(identifier, AVAILABLE)}
        return 404, "ResourceNotFoundException", {"message": f"The model {identifier} does not exist."}

    def _profile(self, profile_id: str) -> dict[str, Any]:
        model = profile_id.split(".", 1)[1]
        return {
            "inferenceProfileName": profile_id,
            "inferenceProfileId": profile_id,
            "inferenceProfileArn": f"arn:aws:bedrock:{self.region}:{self.account}:inference-profile/{profile_id}",
            "models": [
                {"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model}"} for r in self.profiles[profile_id]
            ],
            "status": "ACTIVE",
            "type": "SYSTEM_DEFINED",
        }

    def _model(self, model_id: str) -> dict[str, Any]:
        return {
            "modelDetails": {
                "modelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{model_id}",
                "modelId": model_id,
                "providerName": model_id.split(".")[0],
                "responseStreamingSupported": True,
                "inferenceTypesSupported": ["INFERENCE_PROFILE"],
                "modelLifecycle": {"status": "ACTIVE"},
            }
        }


def tokyo_catalog(account: str) -> Catalog:
    """ap-northeast-1 as the reference stack sees it: the jp. and global. Haiku 4.5 profiles, the model itself."""
    return Catalog(
        region="ap-northeast-1",
        account=account,
        profiles={f"jp.{HAIKU}": ("ap-northeast-1", "ap-northeast-3"), f"global.{HAIKU}": ("ap-northeast-1",)},
        models={HAIKU},
    )


@contextmanager
def bedrock_control(catalog: Catalog) -> Iterator[str]:
    """Serve ``catalog`` on 127.0.0.1; yields the endpoint URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer()

        do_POST = do_PUT = do_DELETE = do_GET

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            status, error, body = catalog.answer(self.command, self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if error:
                self.send_header("x-amzn-ErrorType", error)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        yield url
