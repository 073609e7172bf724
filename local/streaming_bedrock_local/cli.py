"""``streaming-bedrock-api local``: run the deployed function behind a streaming API Gateway emulator.

Reads the stack config (``Pulumi.yaml`` + ``Pulumi.<stack>.yaml``), starts the model (the offline stand-in by
default, real Amazon Bedrock with ``--bedrock real``, or ``--bedrock-endpoint URL``), the Lambda emulator pool
and the gateway, then prints the URL and a ready curl line. Ctrl-C or SIGTERM shuts everything down (workers
reaped). Exit codes: 0 after a clean shutdown, 2 for a usage or configuration problem (invalid config, port
taken), 1 when something failed at run time.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TextIO
from urllib.parse import urlencode, urlsplit

from streaming_bedrock_api.settings import function_environment

from streaming_bedrock_local.bedrock_standin import (
    DEFAULT_ANSWER_TOKENS,
    MID_STREAM_EXCEPTIONS,
    PRE_STREAM_ERRORS,
    BedrockStandin,
    BeforeStreamFault,
    Fault,
    MidStreamFault,
)
from streaming_bedrock_local.gateway import DEFAULT_PORT, GatewayOptions, start_gateway
from streaming_bedrock_local.lambda_pool import LambdaPool, PoolOptions
from streaming_bedrock_local.local_clients import key_ids_environment, local_api_keys
from streaming_bedrock_local.stack_config import DEFAULT_STACK, StackConfigError, load_stack_config

EXIT_USAGE = 2
# The CLI's stand-in runs for hours: it keeps only the latest records, and never the request bodies (prompts).
STANDIN_MAX_RECORDS = 100
_FAULT_SHORTCUTS = {
    "throttle": "ThrottlingException",
    "validation": "ValidationException",
    "unavailable": "ServiceUnavailableException",
    "access-denied": "AccessDeniedException",
}


class _UsageError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""



def _say(line: str, stream: TextIO | None = None) -> None:
    """One line in a single write: the gateway's log lines come from other threads and must not land inside it."""
    out = stream if stream is not None else sys.stdout
    out.write(line + "\n")
    out.flush()

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="streaming-bedrock-api", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="run the streaming API locally (gateway + Lambda emulator + model)")
    local.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"gateway port on 127.0.0.1 (default {DEFAULT_PORT})"
    )
    local.add_argument("--stack", default=DEFAULT_STACK, help="stack whose Pulumi.<stack>.yaml to read (default dev)")
    local.add_argument("--project-dir", type=Path, default=Path("."), help="directory with Pulumi.yaml (default .)")
    local.add_argument("--concurrency", type=int, default=2, help="warm function workers (default 2; more queue)")
    local.add_argument("--api-key", help="API key clients must send as x-api-key (default: a random one, printed)")
    model = local.add_argument_group("model")
    model.add_argument(
        "--bedrock",
        choices=("standin", "real"),
        default="standin",
        help="standin: offline stand-in model (default); real: Amazon Bedrock with your AWS credentials",
    )
    model.add_argument(
        "--bedrock-endpoint",
        metavar="URL",
        help="send the function's Bedrock calls to this URL; your AWS credentials go only to an https:// URL "
        "(an http:// one gets dummy credentials)",
    )
    model.add_argument("--token-delay-ms", type=float, default=20.0, help="stand-in: time between tokens (default 20)")
    model.add_argument(
        "--answer-tokens", type=int, default=DEFAULT_ANSWER_TOKENS, help="stand-in: tokens per answer"
    )
    model.add_argument(
        "--fail-before-stream",
        metavar="ERROR",
        help="stand-in: answer every request with this Bedrock error, e.g. throttle, validation, unavailable, "
        "or an exception name such as ModelTimeoutException",
    )
    model.add_argument(
        "--fail-mid-stream",
        metavar="EXCEPTION",
        help="stand-in: break every stream with this exception (e.g. modelStreamErrorException)",
    )
    model.add_argument("--fail-after-tokens", type=int, default=5, help="stand-in: tokens before --fail-mid-stream")
    return parser


def _fault(args: argparse.Namespace) -> Fault | None:
    if args.fail_before_stream and args.fail_mid_stream:
        raise _UsageError("--fail-before-stream and --fail-mid-stream cannot be combined")
    if args.fail_before_stream:
        name = _FAULT_SHORTCUTS.get(args.fail_before_stream, args.fail_before_stream)
        if name not in PRE_STREAM_ERRORS:
            known = ", ".join([*_FAULT_SHORTCUTS, *sorted(PRE_STREAM_ERRORS)])
            raise _UsageError(f"--fail-before-stream: unknown error {args.fail_before_stream!r}; one of {known}")
        return BeforeStreamFault(name)
    if args.fail_mid_stream:
        if args.fail_mid_stream not in MID_STREAM_EXCEPTIONS:
            known = ", ".join(sorted(MID_STREAM_EXCEPTIONS))
            raise _UsageError(f"--fail-mid-stream: unknown exception {args.fail_mid_stream!r}; one of {known}")
        if args.fail_after_tokens < 0:
            raise _UsageError("--fail-after-tokens must be 0 or more")
        return MidStreamFault(args.fail_mid_stream, after_deltas=args.fail_after_tokens)
    return None


def _check_args(args: argparse.Namespace) -> None:
    if not 0 <= args.port <= 65535:
        raise _UsageError(f"--port {args.port} is not a TCP port")
    if not 1 <= args.concurrency <= 64:
        raise _UsageError("--concurrency must be between 1 and 64")
    if args.token_delay_ms < 0 or args.answer_tokens < 1:
        raise _UsageError("--token-delay-ms must be >= 0 and --answer-tokens >= 1")
    if args.bedrock == "real" and args.bedrock_endpoint:
        raise _UsageError("--bedrock real and --bedrock-endpoint cannot be combined")
    if (args.bedrock == "real" or args.bedrock_endpoint) and (args.fail_before_stream or args.fail_mid_stream):
        raise _UsageError("--fail-* options only apply to the stand-in model")
    if args.bedrock_endpoint and urlsplit(args.bedrock_endpoint).scheme not in ("http", "https"):
        raise _UsageError(f"--bedrock-endpoint {args.bedrock_endpoint!r} must be an http:// or https:// URL")
    if args.api_key is not None and not args.api_key.strip():
        raise _UsageError("--api-key must not be empty")


def build_standin(args: argparse.Namespace, fault: Fault | None) -> BedrockStandin:
    """The stand-in model as the CLI runs it (not started)."""
    return BedrockStandin(
        pace_seconds=args.token_delay_ms / 1000,
        answer_tokens=args.answer_tokens,
        fault=fault,
        max_records=STANDIN_MAX_RECORDS,
        keep_request_bodies=False,
    )


def _curl_line(url: str, api_key: str | None) -> str:
    key = f' -H "x-api-key: {api_key}"' if api_key else ""
    return (
        f'curl --no-buffer -X POST {url}{key} -H "Content-Type: application/json" '
        "-d '{\"prompt\":\"Explain response streaming in two sentences.\"}'"
    )


def _report_warm(pool: LambdaPool, stop: threading.Event, started: float, count: int) -> None:
    """Say when every worker has polled for work (short waits, so Ctrl-C is never held up)."""
    while not stop.is_set():
        try:
            pool.wait_ready(timeout=0.2)
        except TimeoutError:
            if time.monotonic() - started > 30:
                _say("  warning: workers not ready after 30 s; see the function log above")
                return
            continue
        warm_ms = (time.monotonic() - started) * 1000
        _say(f"  {count} warm workers ready after {warm_ms:.0f} ms")
        return


def _check_runtime_dependencies(args: argparse.Namespace) -> None:
    # The workers run on this interpreter, whose boto3 stands in for the one Lambda's runtime provides.
    if importlib.util.find_spec("boto3") is None:
        raise _UsageError(f"boto3 is not installed for {sys.executable}; pip install 'streaming-bedrock-api[local]'")
    if args.bedrock == "real":
        import boto3

        if boto3.Session().get_credentials() is None:
            raise _UsageError(
                "--bedrock real needs AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
                "an SSO login); none were found"
            )


def run_local(args: argparse.Namespace) -> int:
    _check_args(args)
    fault = _fault(args)
    _check_runtime_dependencies(args)
    try:
        config = load_stack_config(args.project_dir, args.stack)
    except StackConfigError as error:
        raise _UsageError(f"invalid stack config: {error}") from None
    settings = config.settings
    if args.api_key is not None and settings.clients:
        raise _UsageError("--api-key sets the single default key; this stack has named clients, whose keys are "
                          "generated and printed at start")
    # One key per named client of the stack config (or the single default key), as the deployment has.
    keys = local_api_keys(settings, args.api_key)
    api_key = keys[0].value if keys else None

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    started = time.monotonic()
    environment = function_environment(settings)
    environment.update(key_ids_environment(keys))
    standin: BedrockStandin | None = None
    # The workers get the developer's AWS credentials only when the calls go to AWS or over TLS; otherwise
    # a signed request would carry the access key id and session token in clear to whoever listens.
    forward_credentials = False
    if args.bedrock == "real":
        forward_credentials = True
        model_note = f"Amazon Bedrock in {config.region} with your AWS credentials ({settings.model_id})"
    elif args.bedrock_endpoint:
        environment["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = args.bedrock_endpoint
        forward_credentials = urlsplit(args.bedrock_endpoint).scheme == "https"
        model_note = f"Bedrock-compatible endpoint {args.bedrock_endpoint}" + (
            " with your AWS credentials"
            if forward_credentials
            else " with dummy AWS credentials (plain http: yours are not sent; an https:// endpoint gets them)"
        )
    else:
        standin = build_standin(args, fault).start()
        environment["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = standin.endpoint_url
        model_note = "offline stand-in model (answers are labelled [stand-in model]; use --bedrock real for Bedrock)"
        if fault is not None:
            model_note += f"; injecting {fault}"
    pool = LambdaPool(
        PoolOptions(
            environment=environment,
            region=config.region,
            concurrency=args.concurrency,
            timeout_s=float(settings.timeout_seconds),
            memory_mb=settings.memory_size,
            forward_aws_credentials=forward_credentials,
        )
    )
    try:
        try:
            server, thread = start_gateway(settings, pool, GatewayOptions(port=args.port, client_keys=keys))
        except OSError as error:
            raise _UsageError(f"cannot listen on 127.0.0.1:{args.port}: {error.strerror or error}; "
                              "use --port to pick another port") from None
        try:
            pool.start()
            url = f"{server.url}/{settings.stage_name}/{settings.path}"
            ready_ms = (time.monotonic() - started) * 1000
            _say(f"Streaming Bedrock API (local, stack {config.stack}) at {url}")
            _say(f"  model: {model_note}")
            _say(f"  function: {pool.zip_path} ({args.concurrency} warm workers)")
            if settings.auth == "api_key" and not settings.clients:
                _say(f"  api key: {api_key}")
            elif settings.clients:
                for key in keys:
                    _say(f"  api key of client {key.client}: {key.value}")
            elif settings.auth in ("iam", "cognito"):
                _say(f"  auth {settings.auth}: only the presence of an Authorization header is checked locally")
            _say(f"  listening after {ready_ms:.0f} ms; Ctrl-C to stop")
            _say(_curl_line(url, api_key))
            demo = (Path(args.project_dir) / "demo" / "index.html").resolve()
            if demo.is_file():
                query = urlencode({"endpoint": url, **({"key": api_key} if api_key else {})})
                _say(f"  demo page: {demo.as_uri()}?{query}")
            _report_warm(pool, stop, started, args.concurrency)
            while not stop.wait(0.5):
                pass
            _say("shutting down...", sys.stderr)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
    finally:
        pool.stop()
        if standin is not None:
            standin.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("STREAMING_BEDROCK_LOG_LEVEL", "INFO"), format="%(message)s", stream=sys.stderr
    )
    try:
        if args.command == "local":
            return run_local(args)
        parser.error(f"unknown command {args.command!r}")
    except _UsageError as error:
        _say(f"error: {error}", sys.stderr)
        return EXIT_USAGE
    return 1


if __name__ == "__main__":
    sys.exit(main())
