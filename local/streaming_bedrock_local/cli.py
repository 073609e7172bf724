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
import textwrap
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TextIO
from urllib.parse import urlsplit

from streaming_bedrock_api.settings import function_environment

from streaming_bedrock_local.bedrock_standin import DEFAULT_ANSWER_TOKENS, Fault
from streaming_bedrock_local.demo_link import demo_lines
from streaming_bedrock_local.faults import FaultNameError, build_fault, describe_fault, short_names
from streaming_bedrock_local.gateway import DEFAULT_PORT, GatewayOptions, start_gateway
from streaming_bedrock_local.lambda_pool import LambdaPool, PoolOptions
from streaming_bedrock_local.local_clients import LocalApiKey, key_ids_environment, local_api_keys
from streaming_bedrock_local.stack_config import DEFAULT_STACK, StackConfigError, load_stack_config
from streaming_bedrock_local.standin_process import StandinProcess
from streaming_bedrock_local.terminal import (
    LOG_FORMATS,
    Banner,
    LineWriter,
    access_logger,
    banner_lines,
    curl_line,
    function_log_sink,
    openai_base_url,
    reminder_lines,
    watch_enter,
)
from streaming_bedrock_local.verify.command import add_verify_command, main_verify

EXIT_USAGE = 2
# The CLI's stand-in runs for hours: it keeps only the latest records, and never the request bodies (prompts).
STANDIN_MAX_RECORDS = 100
DEFAULT_CONCURRENCY = 8  # the most warm workers that kept the added gap p99 <= 5 ms here (local/README.md)
DEFAULT_TOKEN_DELAY_MS = 20.0
DEFAULT_FAIL_AFTER_TOKENS = 5


class _UsageError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""



def _say(line: str, stream: TextIO | None = None) -> None:
    """One line in a single write: the gateway's log lines come from other threads and must not land inside it."""
    out = stream if stream is not None else sys.stdout
    out.write(line + "\n")
    out.flush()


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps help text without breaking names such as access-denied or --fail-mid-stream at their hyphens."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="streaming-bedrock-api", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser(
        "local",
        formatter_class=_HelpFormatter,
        help="run the streaming API locally (gateway + Lambda emulator + model)",
        description="Run the streaming API on 127.0.0.1 with the stack's settings: API Gateway emulator, the "
        "deployed function's zip in worker processes, and the offline stand-in model (or Amazon Bedrock).",
    )
    local.add_argument(
        "--port",
        metavar="N",
        type=int,
        default=DEFAULT_PORT,
        help=f"gateway port on 127.0.0.1; 0 picks a free one (default {DEFAULT_PORT})",
    )
    local.add_argument(
        "--stack",
        metavar="NAME",
        default=DEFAULT_STACK,
        help=f"stack whose Pulumi.<stack>.yaml to read (default {DEFAULT_STACK})",
    )
    local.add_argument(
        "--project-dir", metavar="DIR", type=Path, default=Path("."), help="directory with Pulumi.yaml (default: .)"
    )
    local.add_argument(
        "--concurrency",
        metavar="N",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"warm function workers, 1-64; more requests queue (default {DEFAULT_CONCURRENCY})",
    )
    local.add_argument(
        "--api-key", metavar="KEY", help="API key clients must send as x-api-key (default: a random one, printed)"
    )
    local.add_argument(
        "--serve-demo",
        action="store_true",
        help="serve demo/index.html at /demo/ on the gateway's own origin (same-origin: works with any CORS origins)",
    )
    local.add_argument(
        "--buffer-responses",
        action="store_true",
        help="hold each response until the function has finished, as a BUFFERED integration does (to see what "
        "`streaming-bedrock-api verify` reports then) (default off)",
    )
    output = local.add_argument_group("output")
    output.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="per-request lines on stderr: text (one short line) or json (the full record) (default text)",
    )
    output.add_argument(
        "--function-logs",
        action="store_true",
        help="also show the function's own log lines (JSON, EMF metrics) on stderr; without it, only its "
        "warnings and errors (default off)",
    )
    model = local.add_argument_group("model")
    model.add_argument(
        "--bedrock",
        choices=("standin", "real"),
        default="standin",
        help="standin: offline stand-in model; real: Amazon Bedrock with your AWS credentials (default standin)",
    )
    model.add_argument(
        "--bedrock-endpoint",
        metavar="URL",
        help="send the function's Bedrock calls to this URL; your AWS credentials go only to an https:// URL "
        "(an http:// one gets dummy credentials) (default: none)",
    )
    model.add_argument(
        "--token-delay-ms",
        metavar="MS",
        type=float,
        default=DEFAULT_TOKEN_DELAY_MS,
        help=f"stand-in: time between tokens (default {DEFAULT_TOKEN_DELAY_MS:g})",
    )
    model.add_argument(
        "--answer-tokens",
        metavar="N",
        type=int,
        default=DEFAULT_ANSWER_TOKENS,
        help=f"stand-in: tokens per answer (default {DEFAULT_ANSWER_TOKENS})",
    )
    model.add_argument(
        "--fail-before-stream",
        metavar="ERROR",
        help=f"stand-in: answer every request with this Bedrock error: {', '.join(short_names('before'))}, or "
        "the exception name in any case, e.g. ThrottlingException (default: none)",
    )
    model.add_argument(
        "--fail-mid-stream",
        metavar="ERROR",
        help=f"stand-in: break every stream with this Bedrock stream error: {', '.join(short_names('mid'))}, or "
        "the exception name in any case, e.g. throttlingException (default: none)",
    )
    model.add_argument(
        "--fail-after-tokens",
        type=int,
        metavar="N",
        help=f"stand-in: tokens sent before --fail-mid-stream breaks the stream (default {DEFAULT_FAIL_AFTER_TOKENS})",
    )
    add_verify_command(commands)  # its arguments live in streaming_bedrock_local.verify.command
    return parser


def _fault(args: argparse.Namespace) -> Fault | None:
    try:
        return build_fault(args.fail_before_stream, args.fail_mid_stream, args.fail_after_tokens)
    except FaultNameError as error:
        raise _UsageError(str(error)) from None


def _check_args(args: argparse.Namespace) -> None:
    if not 0 <= args.port <= 65535:
        raise _UsageError(f"--port {args.port} is not a TCP port (0-65535; 0 picks a free one)")
    if not 1 <= args.concurrency <= 64:
        raise _UsageError("--concurrency must be between 1 and 64")
    if args.token_delay_ms < 0 or args.answer_tokens < 1:
        raise _UsageError("--token-delay-ms must be >= 0 and --answer-tokens >= 1")
    if args.bedrock == "real" and args.bedrock_endpoint:
        raise _UsageError("--bedrock real and --bedrock-endpoint cannot be combined")
    faults = args.fail_before_stream or args.fail_mid_stream or args.fail_after_tokens is not None
    if (args.bedrock == "real" or args.bedrock_endpoint) and faults:
        raise _UsageError("--fail-* options only apply to the stand-in model")
    if args.bedrock_endpoint and urlsplit(args.bedrock_endpoint).scheme not in ("http", "https"):
        raise _UsageError(f"--bedrock-endpoint {args.bedrock_endpoint!r} must be an http:// or https:// URL")
    if args.api_key is not None and not args.api_key.strip():
        raise _UsageError("--api-key must not be empty")


def build_standin(args: argparse.Namespace, fault: Fault | None) -> StandinProcess:
    """The stand-in model as the CLI runs it (not started): in its own process, so its threads never take the
    GIL from the gateway's (see local/README.md, concurrency figures)."""
    return StandinProcess(
        pace_seconds=args.token_delay_ms / 1000,
        answer_tokens=args.answer_tokens,
        fault=fault,
        max_records=STANDIN_MAX_RECORDS,
        keep_request_bodies=False,
    )


def _report_warm(pool: LambdaPool, stop: threading.Event, started: float, count: int) -> None:
    """Say when every worker has polled for work (short waits, so Ctrl-C is never held up)."""
    while not stop.is_set():
        try:
            pool.wait_ready(timeout=0.2)
        except TimeoutError:
            if time.monotonic() - started > 30:
                _say("warning: workers not ready after 30 s; see the function's lines above", sys.stderr)
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


def _model_note(args: argparse.Namespace, region: str, model_id: str, fault: Fault | None) -> str:
    if args.bedrock == "real":
        return f"Amazon Bedrock in {region} with your AWS credentials ({model_id})"
    if args.bedrock_endpoint:
        if urlsplit(args.bedrock_endpoint).scheme == "https":
            return f"Bedrock-compatible endpoint {args.bedrock_endpoint} with your AWS credentials"
        return (
            f"Bedrock-compatible endpoint {args.bedrock_endpoint} with dummy AWS credentials "
            "(plain http: yours are not sent; an https:// endpoint gets them)"
        )
    note = "offline stand-in model (answers are labelled [stand-in model]; use --bedrock real for Bedrock)"
    return note + (f"; {describe_fault(fault)}" if fault is not None else "")


def _key_lines(named_clients: object, keys: Sequence[LocalApiKey], api_key: str | None) -> list[str]:
    if named_clients:
        return [f"api key of client {key.client}: {key.value}" for key in keys]
    return [f"api key: {api_key}"] if api_key else []


def _demo_file(args: argparse.Namespace) -> Path | None:
    demo = (Path(args.project_dir) / "demo" / "index.html").resolve()
    if demo.is_file():
        return demo
    if args.serve_demo:
        raise _UsageError(f"--serve-demo: {demo} not found (run from the repository, or point --project-dir at it)")
    return None


def run_local(args: argparse.Namespace) -> int:
    _check_args(args)
    fault = _fault(args)
    _check_runtime_dependencies(args)
    try:
        config = load_stack_config(args.project_dir, args.stack)
    except StackConfigError as error:
        problems = error.problems
        if len(problems) == 1:
            raise _UsageError(f"invalid stack config: {problems[0]}") from None
        raise _UsageError(
            f"invalid stack config ({len(problems)} problems):\n" + "\n".join(f"  {p}" for p in problems)
        ) from None
    settings = config.settings
    if args.api_key is not None and settings.clients:
        raise _UsageError("--api-key sets the single default key; this stack has named clients, whose keys are "
                          "generated and printed at start")
    # One key per named client of the stack config (or the single default key), as the deployment has.
    keys = local_api_keys(settings, args.api_key)
    api_key = keys[0].value if keys else None
    demo_file = _demo_file(args)
    err = LineWriter(sys.stderr)
    out = LineWriter(sys.stdout)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    started = time.monotonic()
    environment = function_environment(settings)
    environment.update(key_ids_environment(keys))
    standin: StandinProcess | None = None
    # The workers get the developer's AWS credentials only when the calls go to AWS or over TLS; otherwise
    # a signed request would carry the access key id and session token in clear to whoever listens.
    forward_credentials = args.bedrock == "real" or urlsplit(args.bedrock_endpoint or "").scheme == "https"
    if args.bedrock_endpoint:
        environment["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = args.bedrock_endpoint
    elif args.bedrock != "real":
        standin = build_standin(args, fault).start()
        environment["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = standin.endpoint_url
    pool = LambdaPool(
        PoolOptions(
            environment=environment,
            region=config.region,
            concurrency=args.concurrency,
            timeout_s=float(settings.timeout_seconds),
            memory_mb=settings.memory_size,
            forward_aws_credentials=forward_credentials,
            log_sink=function_log_sink(err, args.function_logs, args.log_format),
        )
    )
    gateway_options = GatewayOptions(
        port=args.port,
        client_keys=keys,
        access_log=access_logger(err, args.log_format),
        demo_html=demo_file.read_bytes() if args.serve_demo and demo_file is not None else None,
        buffer_response=args.buffer_responses,
    )
    try:
        try:
            server, thread = start_gateway(settings, pool, gateway_options)
        except OSError as error:
            raise _UsageError(
                f"cannot listen on 127.0.0.1:{args.port}: {error.strerror or error}; use --port to pick another "
                "port (--port 0 picks a free one)"
            ) from None
        try:
            pool.start()
            url = f"{server.url}/{settings.stage_name}/{settings.path}"
            auth_line = None
            if settings.auth in ("iam", "cognito"):
                auth_line = f"auth {settings.auth}: only the presence of an Authorization header is checked locally"
            workers = "warm worker" if args.concurrency == 1 else "warm workers"
            banner = Banner(
                stack=config.stack,
                url=url,
                model=_model_note(args, config.region, settings.model_id, fault),
                function=f"{pool.zip_path} ({args.concurrency} {workers})",
                auth_line=auth_line,
                key_lines=_key_lines(settings.clients, keys, api_key),
                ready_ms=(time.monotonic() - started) * 1000,
                curl=curl_line(url, api_key),
                demo=demo_lines(demo_file, server.url, url, api_key, settings.allowed_origins, args.serve_demo),
                openai_base_url=openai_base_url(url, settings.openai_path_prefix) if settings.openai_routes else None,
            )
            for line in banner_lines(banner):
                out.write(line)

            def remind() -> None:
                for line in reminder_lines(banner):
                    out.write(line)

            watch_enter(sys.stdin, remind)
            _report_warm(pool, stop, started, args.concurrency)
            while not stop.wait(0.5):
                pass
            err.write("shutting down...")
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
        if args.command == "verify":
            return main_verify(args)
        parser.error(f"unknown command {args.command!r}")
    except _UsageError as error:
        _say(f"error: {error}", sys.stderr)
        return EXIT_USAGE
    return 1


if __name__ == "__main__":
    sys.exit(main())
