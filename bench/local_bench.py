"""Benchmark of the whole local stack: client → gateway → worker processes (the deployed zip) → boto3 → stand-in.

What it measures (all clocks are ``time.monotonic()``, CLOCK_MONOTONIC, one clock for every process on the
machine, so the stand-in's send times compare with the clients' arrival times whichever process it runs in):

- added first-byte latency: when the first answer byte reached the client minus when the stand-in wrote the
  first token (so the model's own latency is not counted);
- added inter-chunk gap: for each token after the first, (client gap between this token and the previous one)
  minus (stand-in gap between sending them); positive = the stack delayed a token relative to the previous one;
- N concurrent streams: bodies byte-exact (count), p99 added gap under load.

The client reads the raw socket and decodes the chunked framing itself (with the local Runtime API's
``ChunkedDecoder``), so every arrival time is the moment the bytes left the kernel, not when a library decided
to return them. Run: ``python bench/local_bench.py`` (``--help`` for sizes). Prints a table; nothing here is
asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "components"), str(REPO / "local")]

from streaming_bedrock_api.settings import function_environment, resolve_settings  # noqa: E402
from streaming_bedrock_local.bedrock_standin import BedrockStandin, StandinRecord, standin_answer  # noqa: E402
from streaming_bedrock_local.chunked import ChunkData, ChunkedDecoder  # noqa: E402
from streaming_bedrock_local.gateway import GatewayOptions, start_gateway  # noqa: E402
from streaming_bedrock_local.lambda_pool import LambdaPool, PoolOptions  # noqa: E402
from streaming_bedrock_local.standin_process import StandinProcess  # noqa: E402

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
API_KEY = "bench-key"


@dataclass
class Stream:
    prompt: str
    tokens: tuple[str, ...]
    status: int = 0
    body: bytes = b""
    complete: bool = False
    token_arrivals: list[float] = field(default_factory=list)


def _read_stream(port: int, path: str, prompt: str, tokens: tuple[str, ...]) -> Stream:
    """POST and read the chunked response from the raw socket, timestamping when each token completed."""
    stream = Stream(prompt, tokens)
    body = json.dumps({"prompt": prompt}).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"x-api-key: {API_KEY}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    # Token i is complete when this many answer bytes have arrived.
    boundaries, total = [], 0
    for token in tokens:
        total += len(token.encode())
        boundaries.append(total)
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(head + body)
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            data = sock.recv(65536)
            if not data:
                return stream
            buffer += data
        header_block, buffer = buffer.split(b"\r\n\r\n", 1)
        stream.status = int(header_block.split(b" ", 2)[1])
        decoder = ChunkedDecoder()
        payload = bytearray()
        data, arrived = buffer, time.monotonic()
        while True:
            for event in decoder.feed(data):
                if not isinstance(event, ChunkData):
                    continue
                payload += event.data
                while len(stream.token_arrivals) < len(boundaries) and len(payload) >= boundaries[
                    len(stream.token_arrivals)
                ]:
                    stream.token_arrivals.append(arrived)
            if decoder.done:
                stream.complete = True
                break
            data = sock.recv(65536)
            arrived = time.monotonic()
            if not data:
                break
        stream.body = bytes(payload)
        return stream


def _cpu_seconds(pid: int | str) -> float:
    """utime + stime of a process from /proc (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _added_gaps(stream: Stream, record: StandinRecord, skip: int = 0) -> list[float]:
    """Added gap per token (ms), from token ``skip + 1`` on."""
    sent = record.token_times
    got = stream.token_arrivals
    count = min(len(sent), len(got))
    return [((got[i] - got[i - 1]) - (sent[i] - sent[i - 1])) * 1000 for i in range(max(1, skip + 1), count)]


def _expected(prompt: str, answer_tokens: int) -> tuple[str, ...]:
    request = {"messages": [{"role": "user", "content": [{"text": prompt}]}], "inferenceConfig": {"maxTokens": 4096}}
    return standin_answer(request, answer_tokens=answer_tokens).chunks


def _records_by_prompt(standin: BedrockStandin | StandinProcess) -> dict[str, StandinRecord]:
    found = {}
    for record in standin.records():
        request = record.request or {}
        messages = request.get("messages") or [{}]
        text = (messages[-1].get("content") or [{}])[0].get("text")
        if isinstance(text, str):
            found[text] = record
    return found


def _cli_start_ms(runs: int = 3) -> tuple[float, float]:
    """Median ms from launching ``streaming-bedrock-api local`` to "listening" and to "workers ready"."""
    script = Path(sys.executable).with_name("streaming-bedrock-api")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "streaming_bedrock_local.cli"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "components"), str(REPO / "local")])}
    listening, warm = [], []
    for _ in range(runs):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        started = time.monotonic()
        process = subprocess.Popen(
            [*command, "local", "--port", str(port), "--project-dir", str(REPO)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            if "listening after" in line:
                listening.append((time.monotonic() - started) * 1000)
            if "warm workers ready" in line:
                warm.append((time.monotonic() - started) * 1000)
                break
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    return statistics.median(listening), statistics.median(warm)


def run_clients(argv: list[str]) -> int:
    """Child mode: ``--clients PORT PATH TOKENS PROMPT...``; prints the streams as JSON."""
    port, path, tokens, prompts = int(argv[0]), argv[1], int(argv[2]), argv[3:]
    results: list[Stream] = []

    def run(prompt: str) -> None:
        results.append(_read_stream(port, path, prompt, _expected(prompt, tokens)))

    threads = [threading.Thread(target=run, args=(prompt,)) for prompt in prompts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    items = [{**vars(s), "body": s.body.decode("utf-8", "replace"), "tokens": list(s.tokens)} for s in results]
    print(json.dumps(items))
    return 0


def main() -> int:
    if sys.argv[1:2] == ["--clients"]:
        return run_clients(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sequential", type=int, default=30, help="streams measured one at a time")
    parser.add_argument("--concurrent", type=int, default=100, help="streams sent at once")
    parser.add_argument("--workers", type=int, default=100, help="warm function workers (Lambda concurrency)")
    parser.add_argument("--tokens", type=int, default=48, help="tokens per answer")
    parser.add_argument("--pace-ms", type=float, default=20.0, help="stand-in time between tokens")
    parser.add_argument("--switch-interval-ms", type=float, default=None, help="sys.setswitchinterval for this process")
    parser.add_argument(
        "--standin",
        choices=("process", "thread"),
        default="process",
        help="run the stand-in in its own process (as the CLI does) or as threads of this one (default process)",
    )
    parser.add_argument("--skip-cli", action="store_true", help="do not time the CLI's start")
    parser.add_argument("--py-spy", metavar="PATH", help="py-spy binary: record this process during the burst")
    parser.add_argument("--profile-out", default="local-bench-burst.txt", help="where py-spy writes (raw stacks)")
    args = parser.parse_args()
    if args.switch_interval_ms is not None:
        sys.setswitchinterval(args.switch_interval_ms / 1000)

    load_before = os.getloadavg()
    cli_listening_ms, cli_warm_ms = _cli_start_ms() if not args.skip_cli else (float("nan"), float("nan"))
    settings = resolve_settings({"model_id": MODEL, "heartbeat_seconds": 30.0})
    standin_type = StandinProcess if args.standin == "process" else BedrockStandin
    with tempfile.TemporaryDirectory() as tmp, standin_type(
        pace_seconds=args.pace_ms / 1000, answer_tokens=args.tokens
    ) as standin:
        environment = function_environment(settings)
        environment.update(
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME=standin.endpoint_url,
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",
        )
        log = (Path(tmp) / "function.log").open("wb")
        started = time.monotonic()
        pool = LambdaPool(
            PoolOptions(environment=environment, region="ap-northeast-1", concurrency=args.workers, output=log)
        ).start()
        server, thread = start_gateway(settings, pool, GatewayOptions(port=0, api_key=API_KEY))
        listening = time.monotonic() - started
        pool.wait_ready(timeout=300)
        warm = time.monotonic() - started
        port = int(server.server_address[1])
        path = f"/{settings.stage_name}/{settings.path}"
        try:
            # Warm-up: the first call on each worker builds its boto3 connection.
            for index in range(min(args.workers, 4)):
                _read_stream(port, path, f"warm {index}", _expected(f"warm {index}", args.tokens))

            ttfb_added: list[float] = []
            gaps: list[float] = []
            seq_exact = 0
            for index in range(args.sequential):
                prompt = f"sequential {index}"
                stream = _read_stream(port, path, prompt, _expected(prompt, args.tokens))
                standin.wait_for_done(len(standin.records()), timeout=30)
                record = _records_by_prompt(standin)[prompt]
                seq_exact += stream.complete and stream.body.decode() == "".join(stream.tokens)
                if stream.token_arrivals and record.first_token_at is not None:
                    ttfb_added.append((stream.token_arrivals[0] - record.first_token_at) * 1000)
                gaps += _added_gaps(stream, record)

            prompts = [f"concurrent {index}" for index in range(args.concurrent)]
            standin_pid = standin.pid if isinstance(standin, StandinProcess) else None
            cpu_before = (
                _cpu_seconds("self"),
                sum(_cpu_seconds(pid) for pid in pool.worker_pids),
                _cpu_seconds(standin_pid) if standin_pid is not None else 0.0,
            )
            profiler = None
            if args.py_spy:
                profiler = subprocess.Popen(
                    [args.py_spy, "record", "--pid", str(os.getpid()), "--format", "raw", "--rate", "250",
                     "--nonblocking", "--threads", "--output", args.profile_out],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                time.sleep(1.0)  # py-spy attaches
            burst_started = time.monotonic()
            # The clients run in their own process so their work does not compete with the stack's threads;
            # CLOCK_MONOTONIC is system-wide, so their arrival times compare with the stand-in's.
            clients = subprocess.run(
                [sys.executable, __file__, "--clients", str(port), path, str(args.tokens), *prompts],
                capture_output=True,
                text=True,
                check=True,
                timeout=600,
            )
            results = {item["prompt"]: Stream(**item) for item in json.loads(clients.stdout)}
            for stream in results.values():
                stream.tokens = tuple(stream.tokens)
                stream.body = stream.body.encode()  # type: ignore[attr-defined]
            burst_seconds = time.monotonic() - burst_started
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(timeout=60)
            stack_cpu = _cpu_seconds("self") - cpu_before[0]
            workers_cpu = sum(_cpu_seconds(pid) for pid in pool.worker_pids) - cpu_before[1]
            standin_cpu = _cpu_seconds(standin_pid) - cpu_before[2] if standin_pid is not None else float("nan")
            standin.wait_for_done(len(standin.records()), timeout=60)
            records = _records_by_prompt(standin)
            exact = sum(
                1 for s in results.values() if s.complete and s.status == 200 and s.body.decode() == "".join(s.tokens)
            )
            lost = sum(len("".join(s.tokens).encode()) - len(s.body) for s in results.values())
            load_gaps = [g for p, s in results.items() if p in records for g in _added_gaps(s, records[p])]
            # Diagnostic: the same without each stream's first 10 tokens (when all streams start at once).
            steady_gaps = [g for p, s in results.items() if p in records for g in _added_gaps(s, records[p], 10)]
            load_ttfb = [
                (s.token_arrivals[0] - records[p].first_token_at) * 1000  # type: ignore[operator]
                for p, s in results.items()
                if s.token_arrivals and p in records and records[p].first_token_at is not None
            ]
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            pool.stop()
            log.close()

    rows = [
        ("CLI launch -> listening (median of 3)", f"{cli_listening_ms:.0f} ms", "target < 2 s"),
        ("CLI launch -> default workers warm (median of 3)", f"{cli_warm_ms:.0f} ms", ""),
        ("zip built, workers spawned, gateway listening", f"{listening * 1000:.0f} ms", ""),
        (f"{args.workers} workers warm after start", f"{warm * 1000:.0f} ms", ""),
        ("sequential streams byte-exact", f"{seq_exact}/{args.sequential}", ""),
        ("added first-byte latency p50", f"{_percentile(ttfb_added, 0.5):.2f} ms", "target <= 10 ms"),
        ("added first-byte latency p99", f"{_percentile(ttfb_added, 0.99):.2f} ms", ""),
        (f"added gap p50 (pace {args.pace_ms:g} ms)", f"{_percentile(gaps, 0.5):.3f} ms", ""),
        ("added gap p99", f"{_percentile(gaps, 0.99):.3f} ms", "target <= 5 ms"),
        (f"{args.concurrent} concurrent: byte-exact", f"{exact}/{args.concurrent}", "target all"),
        (f"{args.concurrent} concurrent: bytes lost", f"{lost}", "target 0"),
        (f"{args.concurrent} concurrent: wall time", f"{burst_seconds:.2f} s", ""),
        (f"{args.concurrent} concurrent: CPU, this process",
         f"{stack_cpu:.2f} s", "gateway, runtime API" + (", stand-in" if args.standin == "thread" else "")),
        (f"{args.concurrent} concurrent: CPU, all workers", f"{workers_cpu:.2f} s", f"of {os.cpu_count()} cores"),
        (f"{args.concurrent} concurrent: CPU, stand-in process", f"{standin_cpu:.2f} s", ""),
        (f"{args.concurrent} concurrent: added first-byte p50", f"{_percentile(load_ttfb, 0.5):.2f} ms", ""),
        (f"{args.concurrent} concurrent: added gap p50", f"{_percentile(load_gaps, 0.5):.3f} ms", ""),
        (f"{args.concurrent} concurrent: added gap p99", f"{_percentile(load_gaps, 0.99):.3f} ms", "target <= 5 ms"),
        (f"{args.concurrent} concurrent: gap p99 after token 10", f"{_percentile(steady_gaps, 0.99):.3f} ms", ""),
    ]
    width = max(len(name) for name, _, _ in rows)
    load_after = os.getloadavg()
    print(
        f"local stack benchmark: {args.tokens} tokens/answer, stand-in pace {args.pace_ms:g} ms, "
        f"{args.workers} workers, stand-in as a {args.standin}; load average before "
        f"{load_before[0]:.2f} / after {load_after[0]:.2f} (1 min) on {os.cpu_count()} cores"
    )
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>12}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
