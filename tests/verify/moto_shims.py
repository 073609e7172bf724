"""Two things moto 5.2 does not model, added back test-side (the checks stay as strict as on AWS).

1. ``put_integration`` drops ``responseTransferMode`` (not stored, not returned): the shim stores it and returns it
   from every integration view (``get_integration``, ``get_method``'s ``methodIntegration``), as API Gateway does.
2. A deployment is a snapshot on AWS (the stage serves what existed when its deployment was created; see the
   reference file, "A Deployment is a snapshot"), and ``get_export`` of a stage returns that snapshot with the
   ``x-amazon-apigateway-integration`` extension (which carries ``responseTransferMode``, developer guide,
   response-streaming-http). moto's deployments hold no snapshot and its export ignores the stage: the shim copies
   every method's integration at ``create_deployment`` and exports the stage's deployment from that copy, with the
   extension's lower-case integration type as AWS writes it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from moto.apigateway import models as apigateway_models
from moto.apigateway import responses as apigateway_responses

Response = tuple[int, dict[str, str], Any]


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    original_to_json = apigateway_models.Integration.to_json
    original_put = apigateway_responses.APIGatewayResponse.put_integration
    original_create = apigateway_models.APIGatewayBackend.create_deployment

    def to_json(self: Any) -> dict[str, Any]:
        data = original_to_json(self)
        mode = getattr(self, "response_transfer_mode", None)
        if mode is not None:
            data["responseTransferMode"] = mode
        return data

    def put_integration(self: Any) -> Response:
        status, headers, _ = original_put(self)
        parts = self.path.split("/")
        integration = self.backend.get_integration(parts[2], parts[4], parts[6])
        integration.response_transfer_mode = self._get_param("responseTransferMode")
        return status, headers, json.dumps(integration.to_json())

    def create_deployment(self: Any, function_id: str, name: str, *args: Any, **kwargs: Any) -> Any:
        deployment = original_create(self, function_id, name, *args, **kwargs)
        snapshot: dict[str, dict[str, Any]] = {}
        for resource in self.get_resources(function_id):
            snapshot[resource.get_path()] = {
                verb.lower(): copy.deepcopy(method.method_integration.to_json() if method.method_integration else {})
                for verb, method in resource.resource_methods.items()
            }
        deployment.snapshot = snapshot  # type: ignore[attr-defined]
        return deployment

    def get_export(self: Any) -> Response:
        parts = self.path.split("/")
        api_id, stage_name = parts[-5], parts[-3]
        stage = self.backend.get_stage(api_id, stage_name)
        deployment = self.backend.get_deployment(api_id, stage.deployment_id)
        paths: dict[str, dict[str, Any]] = {}
        for path, methods in getattr(deployment, "snapshot", {}).items():
            paths[path] = {}
            for verb, integration in methods.items():
                extension = {k: v for k, v in integration.items() if k != "integrationResponses"}
                if "type" in extension:
                    extension["type"] = str(extension["type"]).lower()
                paths[path][verb] = {"x-amazon-apigateway-integration": extension}
        body = {"openapi": "3.0.1", "info": {"title": api_id}, "paths": paths}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    monkeypatch.setattr(apigateway_models.Integration, "to_json", to_json)
    monkeypatch.setattr(apigateway_responses.APIGatewayResponse, "put_integration", put_integration)
    monkeypatch.setattr(apigateway_models.APIGatewayBackend, "create_deployment", create_deployment)
    monkeypatch.setattr(apigateway_responses.APIGatewayResponse, "get_export", get_export)
