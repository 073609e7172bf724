"""The Bedrock stand-in in its own process, so its threads do not take the GIL from the gateway's (CLI, bench).

``python -m streaming_bedrock_local.standin_process [options]`` starts a :class:`BedrockStandin`, prints
``listening on PORT`` and serves until its stdin closes (its parent went away) or SIGTERM. :class:`StandinProcess`
starts it and reads its records over HTTP (``GET /_standin/records``), with the same calls as the in-process
stand-in: ``start``/``stop``, ``port``, ``endpoint_url``, ``records()``, ``wait_for_done(count)``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from streaming_bedrock_local.bedrock_standin import (
    DEFAULT_ANSWER_TOKENS,
    DEFAULT_PACE_SECONDS,
    RECORDS_PATH,
    BedrockStandin,
    BeforeStreamFault,
    Fault,
    MidStreamFault,
    StandinRecord,
)

_RECORD_FIELDS = {item.name for item in fields(StandinRecord)} - {"done"}


def _arguments(
    pace_seconds: float, answer_tokens: int, fault: Fault | None, max_records: int | None, keep_request_bodies: bool
) -> list[str]:
    args = ["--pace-seconds", repr(pace_seconds), "--answer-tokens", str(answer_tokens)]
    if isinstance(fault, BeforeStreamFault):
        args += ["--fail-before-stream", fault.error_type]
    elif isinstance(fault, MidStreamFault):
        args += ["--fail-mid-stream", fault.exception_type, "--fail-after-tokens", str(fault.after_deltas)]
    if max_records is not None:
        args += ["--max-records", str(max_records)]
    if not keep_request_bodies:
        args.append("--no-request-bodies")
    return args


class StandinProcess:
    """A stand-in running in a child process (started by :meth:`start`, ended by :meth:`stop`)."""

    def __init__(
        self,
        *,
        pace_seconds: float = DEFAULT_PACE_SECONDS,
        answer_tokens: int = DEFAULT_ANSWER_TOKENS,
        fault: Fault | None = None,
        max_records: int | None = None,
        keep_request_bodies: bool = True,
        python: str = sys.executable,
    ) -> None:
        self._command = [
            python, "-m", "streaming_bedrock_local.standin_process",
            *_arguments(pace_seconds, answer_tokens, fault, max_records, keep_request_bodies),
        ]  # fmt: skip
        self._process: subprocess.Popen[str] | None = None
        self._port: int | None = None

    def start(self, timeout: float = 30.0) -> StandinProcess:
        local = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [local, os.environ.get("PYTHONPATH")]))}
        self._process = subprocess.Popen(
            self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, start_new_session=True
        )
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self._process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the stand-in process did not start within {timeout:g} s")
        self._port = int(line[0].split()[-1])
        return self

    def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> StandinProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("stand-in process not started")
        return self._port

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _fetch(self) -> tuple[int, list[StandinRecord]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", RECORDS_PATH)
            document = json.loads(connection.getresponse().read())
        finally:
            connection.close()
        records = [
            StandinRecord(**{key: value for key, value in item.items() if key in _RECORD_FIELDS})
            for item in document["records"]
        ]
        return int(document["requests_done"]), records

    def records(self) -> list[StandinRecord]:
        """The retained records, oldest first (their ``done`` events are not set: use :meth:`wait_for_done`)."""
        return self._fetch()[1]

    def wait_for_done(self, count: int, timeout: float = 10.0) -> list[StandinRecord]:
        """Poll until at least ``count`` requests have ended; returns the retained records."""
        deadline = time.monotonic() + timeout
        while True:
            done, records = self._fetch()
            if done >= count:
                return records
            if time.monotonic() >= deadline:
                raise TimeoutError(f"stand-in process: {done} requests finished, wanted {count}")
            time.sleep(0.02)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streaming_bedrock_local.standin_process")
    parser.add_argument("--pace-seconds", type=float, default=DEFAULT_PACE_SECONDS)
    parser.add_argument("--answer-tokens", type=int, default=DEFAULT_ANSWER_TOKENS)
    parser.add_argument("--fail-before-stream")
    parser.add_argument("--fail-mid-stream")
    parser.add_argument("--fail-after-tokens", type=int, default=5)
    parser.add_argument("--max-records", type=int)
    parser.add_argument("--no-request-bodies", action="store_true")
    args = parser.parse_args(argv)
    fault: Fault | None = None
    if args.fail_before_stream:
        fault = BeforeStreamFault(args.fail_before_stream)
    elif args.fail_mid_stream:
        fault = MidStreamFault(args.fail_mid_stream, after_deltas=args.fail_after_tokens)
    standin = BedrockStandin(
        pace_seconds=args.pace_seconds,
        answer_tokens=args.answer_tokens,
        fault=fault,
        max_records=args.max_records,
        keep_request_bodies=not args.no_request_bodies,
    ).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C is for the parent, which stops us

    def watch_parent() -> None:
        sys.stdin.read()  # returns at end of file: the parent closed our stdin or died
        stop.set()

    threading.Thread(target=watch_parent, daemon=True).start()
    print(f"listening on {standin.port}", flush=True)
    stop.wait()
    standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
