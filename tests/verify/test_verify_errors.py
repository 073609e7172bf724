"""Credential and usage problems end in one ``error:`` line and exit code 2, never a traceback: the installed
console script runs as its own process, against a loopback endpoint that answers with AWS's own error formats
(STS: the query protocol's XML; API Gateway: REST-JSON with ``x-amzn-ErrorType``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.loopback import serving

SCRIPT = Path(sys.executable).with_name("streaming-bedrock-api")
ARGS = ["verify", "--api-id", "abc123", "--function-name", "chat-fn", "--region", "ap-northeast-1", "--no-invoke"]
IDENTITY = (
    "<GetCallerIdentityResponse xmlns='https://sts.amazonaws.com/doc/2011-06-15/'><GetCallerIdentityResult>"
    "<Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA</UserId><Account>123456789012</Account>"
    "</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
    "</GetCallerIdentityResponse>"
)


def sts_error(code: str, message: str) -> str:
    return (
        f"<ErrorResponse xmlns='https://sts.amazonaws.com/doc/2011-06-15/'><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
    )


@contextmanager
def aws_answering(sts: tuple[int, str], apigateway: tuple[int, str | None]) -> Iterator[str]:
    """STS answers ``sts`` (status, XML); every API Gateway read answers ``apigateway`` (status, error type)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._send(sts[0], sts[1].encode(), "text/xml", None)

        def do_GET(self) -> None:
            status, error = apigateway
            self._send(
                status, b'{"message": "User is not authorized to perform: apigateway:GET"}', "application/json", error
            )

        def _send(self, status: int, body: bytes, kind: str, error: str | None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            if error:
                self.send_header("x-amzn-ErrorType", error)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        yield url


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_MAX_ATTEMPTS="1",
        **extra,
    )
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60, cwd=cwd)


def assert_usage_error(done: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    for phrase in phrases:
        assert phrase in errors[0], errors[0]
    assert done.stdout == ""  # no report when verify could not look


def test_no_credentials() -> None:
    done = run_cli(ARGS, clean_env())
    assert_usage_error(done, "no AWS credentials found", "AWS_PROFILE", "aws sso login")


def test_expired_credentials() -> None:
    with aws_answering(
        (403, sts_error("ExpiredToken", "The security token included in the request is expired")), (200, None)
    ) as url:
        env = clean_env(
            AWS_ACCESS_KEY_ID="ASIAOLD", AWS_SECRET_ACCESS_KEY="x", AWS_SESSION_TOKEN="old", AWS_ENDPOINT_URL=url
        )
        done = run_cli(ARGS, env)
    assert_usage_error(done, "expired (ExpiredToken)", "aws sso login")


def test_unrecognised_credentials() -> None:
    with aws_answering((403, sts_error("InvalidClientTokenId", "The security token is invalid.")), (200, None)) as url:
        env = clean_env(AWS_ACCESS_KEY_ID="AKIAWRONG", AWS_SECRET_ACCESS_KEY="x", AWS_ENDPOINT_URL=url)
        done = run_cli(ARGS, env)
    assert_usage_error(done, "does not accept these credentials (InvalidClientTokenId")


def test_no_permission_to_read() -> None:
    with aws_answering((200, IDENTITY), (403, "AccessDeniedException")) as url:
        env = clean_env(AWS_ACCESS_KEY_ID="AKIAREADER", AWS_SECRET_ACCESS_KEY="x", AWS_ENDPOINT_URL=url)
        done = run_cli(ARGS, env)
    assert_usage_error(done, "may not call apigateway:GET (AccessDeniedException)", "README")


def test_stack_without_the_pulumi_cli(tmp_path: Path) -> None:
    env = clean_env(PATH=str(tmp_path))  # no pulumi on PATH
    done = run_cli(["verify", "--stack", "dev"], env)
    assert_usage_error(done, "--stack needs the Pulumi CLI", "--url, --api-id")


@pytest.mark.parametrize(
    "args, phrase",
    [
        (["verify"], "nothing to verify"),
        (["verify", "--api-id", "abc123", "--function-name", "f", "--region", "ap-northeast-1"], "the probe needs"),
        (["verify", "--url", "ftp://example.com/x"], "is not an http(s) URL"),
    ],
)
def test_usage_problems(args: list[str], phrase: str) -> None:
    assert_usage_error(run_cli(args, clean_env()), phrase)
