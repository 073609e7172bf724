"""The live probe: pure timing analysis and protocol checks, then verify against a running local stack over real
HTTP on loopback: the streamed answer is "streamed"; the gateway holding the whole response back (what a BUFFERED
integration does) gives "buffered"."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from botocore.credentials import Credentials
from streaming_bedrock_local.verify import probe
from streaming_bedrock_local.verify.command import Progress
from streaming_bedrock_local.verify.probe import Arrival
from streaming_bedrock_local.verify.probe_http import Exchange, ProbeAuth

from tests.local.conftest import APP_ORIGIN, running_stack

from .conftest import run_verify


def test_bytes_spread_over_the_generation_are_streamed() -> None:
    arrivals = [Arrival(0.30 + 0.05 * i, 12) for i in range(20)]
    timing = probe.analyse(arrivals, ended_at=1.30)
    assert timing.verdict == "streamed"
    assert (timing.chunks, timing.bytes) == (20, 240)
    assert timing.first_byte_s == pytest.approx(0.30)
    assert timing.max_gap_s == pytest.approx(0.05) and timing.median_gap_s == pytest.approx(0.05)
    assert timing.spread_s == pytest.approx(0.95)
    assert timing.half_bytes_before_end_s == pytest.approx(0.5)  # the 10th of 20 reads at 0.75 s, the last at 1.25 s


@pytest.mark.parametrize(
    "arrivals",
    [
        [Arrival(2.0, 4000)],  # one burst
        [Arrival(2.0, 1400), Arrival(2.001, 1400), Arrival(2.002, 1200)],  # one burst over several reads
        [Arrival(0.5, 10), Arrival(4.0, 4000), Arrival(4.01, 10)],  # a header-ish byte early, the answer at the end
    ],
    ids=["one-read", "one-burst", "late-burst"],
)
def test_bytes_in_one_burst_at_the_end_are_buffered(arrivals: list[Arrival]) -> None:
    timing = probe.analyse(arrivals, ended_at=arrivals[-1].at)
    assert timing.verdict == "buffered"
    assert not probe.check_stream(200, timing, complete=True).ok


def test_empty_body_and_errors_fail_the_stream_check() -> None:
    empty = probe.analyse([], ended_at=0.2)
    assert empty.verdict == "empty" and not probe.check_stream(200, empty, True).ok
    refused = probe.check_stream(403, empty, True, '{"message":"Forbidden"}')
    assert not refused.ok and "HTTP 403" in refused.found


def test_sse_order() -> None:
    good = b'event: delta\ndata: {"text":"a"}\n\n: keep-alive\n\nevent: delta\ndata: {"text":"b"}\n\n'
    good += b'event: usage\ndata: {"output_tokens":2}\n\nevent: done\ndata: {"stop_reason":"end_turn"}\n\n'
    assert probe.check_sse(200, "text/event-stream; charset=utf-8", good, True).ok
    error = b'event: delta\ndata: {"text":"a"}\n\nevent: error\ndata: {"code":"throttled"}\n\n'
    result = probe.check_sse(200, "text/event-stream", error, True)
    assert not result.ok and "throttled" in result.found
    out_of_order = b'event: usage\ndata: {}\n\nevent: delta\ndata: {"text":"a"}\n\nevent: done\ndata: {}\n\n'
    assert not probe.check_sse(200, "text/event-stream", out_of_order, True).ok
    assert not probe.check_sse(200, "text/event-stream", good, complete=False).ok
    assert not probe.check_sse(200, "text/plain", good, True).ok


def test_preflight_rules() -> None:
    asked = ["content-type", "x-api-key"]
    allowed = {
        "access-control-allow-origin": "https://app.example",
        "access-control-allow-methods": "POST,OPTIONS",
        "access-control-allow-headers": "Content-Type,X-Api-Key",
    }
    assert probe.check_preflight(200, allowed, "https://app.example", asked).ok
    other = probe.check_preflight(200, allowed, "https://evil.example", asked)
    assert not other.ok and "allowedOrigins" in other.fix
    no_key = probe.check_preflight(
        200, {**allowed, "access-control-allow-headers": "Content-Type"}, "https://app.example", asked
    )
    assert not no_key.ok and "x-api-key" in no_key.found


def test_sigv4_signs_for_execute_api_in_the_region() -> None:
    auth = ProbeAuth("iam", region="ap-northeast-1", credentials=Credentials("AKIDEXAMPLE", "secret", "token"))
    headers = auth.sign("POST", "https://abc.execute-api.ap-northeast-1.amazonaws.com/prod/stream", b"{}", {})
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/ap-northeast-1/execute-api/aws4_request" in headers["Authorization"]
    assert headers["X-Amz-Security-Token"] == "token" and "X-Amz-Date" in headers
    assert ProbeAuth("api_key", api_key="k").sign("POST", "http://x/", b"", {}) == {"x-api-key": "k"}


@pytest.mark.slow
def test_the_local_stack_streams(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_stack(
        tmp_path, settings={"allowed_origins": [APP_ORIGIN]}, pace_seconds=0.02, answer_tokens=30
    ) as stack:
        result = run_verify(
            ["verify", "--url", stack.url, "--api-key", "test-key", "--origin", APP_ORIGIN, "--json"], capsys
        )
    assert result.code == 0, result.stdout + result.stderr
    assert result.report is not None
    assert [check["name"] for check in result.report["checks"]] == [
        "probe.streams",
        "probe.sse-order",
        "probe.cors-preflight",
    ]
    figures = result.report["probe"]
    assert figures["verdict"] == "streamed" and figures["status"] == 200
    assert figures["chunks"] >= 10 and figures["spread_s"] >= 0.3
    assert any("configuration checks" in reason for reason in result.report["skipped"])


@pytest.mark.slow
def test_a_buffering_gateway_is_caught(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_stack(tmp_path, pace_seconds=0.02, answer_tokens=30, gateway={"buffer_response": True}) as stack:
        result = run_verify(["verify", "--url", stack.url, "--api-key", "test-key", "--json"], capsys)
        log = stack.function_log()
    assert result.code == 1
    failed = result.failed()
    assert set(failed) == {"probe.streams"}, failed
    assert str(failed["probe.streams"]["found"]).startswith("buffered")
    assert "api.transfer-mode" in str(failed["probe.streams"]["fix"])
    assert result.report is not None and result.report["probe"]["chunks"] <= 2
    assert "Traceback" not in log


@pytest.mark.slow
def test_a_refused_key_fails_the_probe_with_the_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_stack(tmp_path, answer_tokens=5) as stack:
        result = run_verify(["verify", "--url", stack.url, "--api-key", "wrong", "--json"], capsys)
    assert result.code == 1
    assert "HTTP 403" in str(result.failed()["probe.streams"]["found"])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_rewrites_one_line_on_a_terminal_and_stays_quiet_in_a_pipe() -> None:
    exchange = Exchange(200, {}, [Arrival(0.1, 5), Arrival(0.2, 7)])
    terminal = _Terminal()
    Progress(terminal).reading("plain text", exchange)
    Progress(terminal).done_reading()
    assert terminal.getvalue() == "\r… plain text: 2 chunks, 12 bytes  \n"
    pipe = io.StringIO()
    Progress(pipe).reading("plain text", exchange)
    Progress(pipe).done_reading()
    Progress(pipe).step("reading API Gateway")
    assert pipe.getvalue() == "… reading API Gateway\n"
