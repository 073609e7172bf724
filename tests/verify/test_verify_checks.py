"""Pure configuration checks on hand-written AWS answers: the cases moto cannot produce."""

from __future__ import annotations

from typing import Any

from streaming_bedrock_local.verify.checks_api import check_deployment
from streaming_bedrock_local.verify.observed import Expectations, ObservedApi

URI = (
    "arn:aws:apigateway:ap-northeast-1:lambda:path/2021-11-15/functions/"
    "arn:aws:lambda:ap-northeast-1:123456789012:function:chat-fn/response-streaming-invocations"
)
EXP = Expectations(region="ap-northeast-1", api_id="abc123", stage_name="prod", path="stream", function_name="chat-fn")
LIVE = {
    "type": "AWS_PROXY",
    "httpMethod": "POST",
    "uri": URI,
    "timeoutInMillis": 900000,
    "responseTransferMode": "STREAM",
}


def _api(exported_post: dict[str, Any]) -> ObservedApi:
    paths = {
        "/stream": {
            "post": {"x-amazon-apigateway-integration": exported_post},
            "options": {"x-amazon-apigateway-integration": {"type": "mock"}},
        }
    }
    return ObservedApi(
        rest_api={"id": "abc123"},
        post={"httpMethod": "POST", "methodIntegration": LIVE},
        stage={"stageName": "prod", "deploymentId": "d1"},
        deployed={"openapi": "3.0.1", "paths": paths},
    )


def test_an_export_without_the_transfer_mode_is_not_called_stale() -> None:
    # Whether an export writes the mode is not documented for every case: absent, it is not compared (the probe
    # still catches a buffering stage); everything else is.
    exported = {key: value for key, value in LIVE.items() if key != "responseTransferMode"}
    exported["type"] = "aws_proxy"
    assert check_deployment(_api(exported), EXP).ok
    older = {**exported, "uri": URI.replace("chat-fn", "chat-fn-old")}
    result = check_deployment(_api(older), EXP)
    assert not result.ok and "chat-fn-old" in result.found


def test_an_export_that_says_buffered_is_stale() -> None:
    result = check_deployment(_api({**LIVE, "type": "aws_proxy", "responseTransferMode": "BUFFERED"}), EXP)
    assert not result.ok and "responseTransferMode BUFFERED (now STREAM)" in result.found
