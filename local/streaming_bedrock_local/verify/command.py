"""``streaming-bedrock-api verify``: arguments, the run, and what it prints.

Exit codes: 0 every check passed, 1 a check failed, 2 a usage or credential problem (one ``error:`` line that says
what to do, never a traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import boto3
import botocore.exceptions

from . import probe
from .aws_read import AwsReader, read_observed
from .checks_api import api_checks
from .checks_bedrock import bedrock_checks
from .checks_function import function_checks
from .observed import Expectations, Observed
from .probe_http import AUTH_MODES, Exchange, ProbeAuth, exchange, probe_body
from .results import EXIT_USAGE, CheckResult, Report, VerifyUsageError, to_json, to_table
from .target import Target, from_outputs, from_url, stack_outputs

ID_TOKEN_ENV = "ID_TOKEN"


def add_verify_command(commands: Any) -> argparse.ArgumentParser:
    """Register ``verify`` on the console script's sub-command parsers."""
    verify = commands.add_parser(
        "verify",
        help="check a deployed stack's configuration (boto3, read-only) and that it streams (one model call)",
        description="Check that a deployed stack is configured to stream, then probe it. Exit 0 all good, "
        "1 a check failed, 2 usage or credential problem.",
    )
    where = verify.add_argument_group("which stack (--stack, or explicit values; explicit values win)")
    where.add_argument("--stack", help="read the outputs of this Pulumi stack (runs `pulumi stack output`)")
    where.add_argument("--project-dir", type=Path, default=Path("."), help="the Pulumi project (default .)")
    where.add_argument("--url", help="the streaming endpoint's URL (an execute-api URL also gives id, region, stage)")
    where.add_argument("--api-id", help="REST API id")
    where.add_argument("--function-name", help="Lambda function name")
    where.add_argument("--region", help="AWS region of the stack")
    where.add_argument("--stage", help="stage name (default: from the URL, else prod)")
    where.add_argument("--path", help="resource path (default: from the URL, else stream)")
    where.add_argument("--log-group", help="the function's log group (default: from the stack outputs)")
    where.add_argument("--log-retention-days", type=int, help="expected log retention (default: the stack's)")
    where.add_argument("--model-id", help="model or inference profile to check (default: the function's)")
    probe_group = verify.add_argument_group("live probe")
    probe_group.add_argument("--no-invoke", action="store_true", help="skip the probe (it makes two model calls)")
    probe_group.add_argument("--auth", choices=AUTH_MODES, help="probe auth (default: what the POST method requires)")
    probe_group.add_argument("--api-key", help="API key for the probe (default: the stack's api_key output)")
    probe_group.add_argument("--id-token", help=f"Cognito token for the probe (default: ${ID_TOKEN_ENV})")
    probe_group.add_argument(
        "--origin", help="also send a CORS preflight from this origin, e.g. https://app.example.com"
    )
    probe_group.add_argument(
        "--probe-timeout", type=float, default=120.0, help="seconds per probe request (default 120)"
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    return verify  # type: ignore[no-any-return]


class Progress:
    """Progress on stderr: one line per step; while a probe reads, one line updated in place on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()

    def step(self, message: str) -> None:
        self.stream.write(f"… {message}\n")
        self.stream.flush()

    def reading(self, label: str, current: Exchange) -> None:
        if self.live:
            size = sum(a.size for a in current.arrivals)
            self.stream.write(f"\r… {label}: {len(current.arrivals)} chunks, {size} bytes  ")
            self.stream.flush()

    def done_reading(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def resolve_target(args: argparse.Namespace) -> Target:
    target = Target()
    if args.stack:
        target = from_outputs(stack_outputs(args.stack, args.project_dir))
    if args.url:
        target = target.merged(from_url(args.url))
    explicit = Target(
        api_id=args.api_id,
        region=args.region,
        stage_name=args.stage,
        path=args.path,
        function_name=args.function_name,
        log_group_name=args.log_group,
        log_retention_days=args.log_retention_days,
        api_key=args.api_key,
    )
    target = target.merged(explicit)
    if target.api_id is None and target.function_name is None and target.url is None:
        raise VerifyUsageError(
            "nothing to verify: pass --stack NAME, or --url and/or --api-id/--function-name/--region"
        )
    if target.url is None and not args.no_invoke:
        raise VerifyUsageError("the probe needs the endpoint: pass --stack NAME or --url URL (or --no-invoke)")
    return target


def expectations(target: Target, model_id: str | None) -> Expectations | None:
    """What the configuration checks compare with; None when the stack's resources are not known."""
    if not (target.api_id and target.function_name and target.region):
        return None
    return Expectations(
        region=target.region,
        api_id=target.api_id,
        stage_name=target.stage_name or "prod",
        path=target.path or "stream",
        function_name=target.function_name,
        log_group_name=target.log_group_name,
        log_retention_days=target.log_retention_days,
        model_id=model_id,
    )


def configuration_checks(reader: AwsReader, exp: Expectations) -> tuple[list[CheckResult], Observed]:
    observed, model_id = read_observed(reader, exp)
    integration = (observed.api.post or {}).get("methodIntegration") or {}
    timeout = integration.get("timeoutInMillis")
    function_arn = (observed.function.configuration or {}).get("FunctionArn")
    results = api_checks(observed.api, exp, str(function_arn) if function_arn else None)
    results += function_checks(
        observed.function, exp, observed.account, timeout if isinstance(timeout, int) else None, model_id
    )
    if observed.model is not None:
        results += bedrock_checks(observed.model)
    return results, observed


def auth_mode(args: argparse.Namespace, observed: Observed | None, target: Target) -> str:
    if args.auth:
        return str(args.auth)
    method = observed.api.post if observed is not None else None
    if method is not None:
        authorization = method.get("authorizationType")
        if authorization == "AWS_IAM":
            return "iam"
        if authorization == "COGNITO_USER_POOLS":
            return "cognito"
        return "api_key" if method.get("apiKeyRequired") else "none"
    return "api_key" if target.api_key else "none"


def probe_auth(mode: str, args: argparse.Namespace, target: Target, session: boto3.Session) -> ProbeAuth:
    if mode == "api_key":
        if not target.api_key:
            raise VerifyUsageError(
                "the method requires an API key: pass --api-key (or --stack, whose api_key output has it)"
            )
        return ProbeAuth(mode, api_key=target.api_key)
    if mode == "cognito":
        token = args.id_token or os.environ.get(ID_TOKEN_ENV)
        if not token:
            raise VerifyUsageError(f"the method requires a Cognito token: pass --id-token or set ${ID_TOKEN_ENV}")
        return ProbeAuth(mode, token=token)
    if mode == "iam":
        try:
            credentials = session.get_credentials()
        except botocore.exceptions.BotoCoreError as error:
            raise VerifyUsageError(f"AWS credentials for SigV4 could not be loaded: {error}") from None
        if credentials is None:
            raise VerifyUsageError(
                "the method requires SigV4: no AWS credentials found (AWS_PROFILE, AWS_ACCESS_KEY_ID...)"
            )
        if not target.region:
            raise VerifyUsageError("SigV4 needs the region: pass --region")
        return ProbeAuth(mode, region=target.region, credentials=credentials)
    return ProbeAuth("none")


def run_probe(
    url: str, auth: ProbeAuth, origin: str | None, timeout: float, progress: Progress
) -> tuple[list[CheckResult], dict[str, Any]]:
    body = probe_body()
    results: list[CheckResult] = []
    base = {"Content-Type": "application/json"}
    progress.step(f"probing {url} (auth {auth.mode})")
    plain = exchange(
        url, "POST", auth.sign("POST", url, body, base), body, timeout, lambda e: progress.reading("plain text", e)
    )
    progress.done_reading()
    timing = probe.analyse(plain.arrivals, plain.ended_at)
    detail = plain.error or plain.body[:200].decode("utf-8", errors="replace")
    results.append(
        probe.check_stream(plain.status, timing, plain.complete, detail if plain.status != 200 else plain.error)
    )
    sse_headers = {**base, "Accept": "text/event-stream"}
    sse = exchange(
        url, "POST", auth.sign("POST", url, body, sse_headers), body, timeout, lambda e: progress.reading("SSE", e)
    )
    progress.done_reading()
    results.append(probe.check_sse(sse.status, sse.headers.get("content-type", ""), sse.body, sse.complete))
    figures: dict[str, Any] = {"status": plain.status, **timing.as_dict()}
    if origin:
        asked = auth.request_headers()
        preflight_headers = {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": ",".join(asked),
        }
        preflight = exchange(url, "OPTIONS", preflight_headers, None, timeout)
        results.append(probe.check_preflight(preflight.status, preflight.headers, origin, asked))
    return results, figures


def run_verify(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run verify with parsed ``args``; returns the exit code (VerifyUsageError propagates: the caller prints it)."""
    stdout, progress = out or sys.stdout, Progress(err or sys.stderr)
    target = resolve_target(args)
    session = boto3.Session()
    checks: list[CheckResult] = []
    skipped: list[str] = []
    observed: Observed | None = None
    exp = expectations(target, args.model_id)
    if exp is None:
        skipped.append("configuration checks (they need --api-id, --function-name and --region, or --stack)")
    else:
        found, observed = configuration_checks(AwsReader(session, exp.region, progress.step), exp)
        checks += found
    figures: dict[str, Any] = {}
    if args.no_invoke:
        skipped.append("live probe (--no-invoke)")
    elif target.url:
        auth = probe_auth(auth_mode(args, observed, target), args, target, session)
        found, figures = run_probe(target.url, auth, args.origin, args.probe_timeout, progress)
        checks += found
        if not args.origin:
            skipped.append("CORS preflight probe (pass --origin)")
    summary = {"url": target.url, "api": target.api_id, "function": target.function_name, "region": target.region}
    report = Report(target=summary, checks=tuple(checks), skipped=tuple(skipped), probe=figures)
    stdout.write((to_json(report) if args.json else to_table(report)) + "\n")
    stdout.flush()
    return report.exit_code


def main_verify(args: argparse.Namespace) -> int:
    """``run_verify`` with usage errors printed as one line and exit code 2."""
    try:
        return run_verify(args)
    except VerifyUsageError as error:
        sys.stderr.write(f"error: {error}\n")
        return EXIT_USAGE
