"""The stand-in in its own process (what the CLI and the bench run): boto3 streams from it as from the in-process
one, its records (with token send times on the shared monotonic clock) come back over HTTP, faults are passed on,
and it ends with its parent."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError
from streaming_bedrock_local.bedrock_standin import BeforeStreamFault, standin_answer
from streaming_bedrock_local.standin_process import StandinProcess

from .test_local_fakes_standin import MODEL, client_for, user


def test_boto3_streams_from_the_process_and_its_records_come_back() -> None:
    with StandinProcess(pace_seconds=0.005, answer_tokens=9, keep_request_bodies=False) as standin:
        before = time.monotonic()
        response = client_for(standin).converse_stream(modelId=MODEL, messages=user("from afar"))  # type: ignore[arg-type]
        deltas = [e["contentBlockDelta"]["delta"]["text"] for e in response["stream"] if "contentBlockDelta" in e]
        assert tuple(deltas) == standin_answer({"messages": user("from afar")}, answer_tokens=9).chunks
        [record] = standin.wait_for_done(1, timeout=10)
    assert record.outcome == "finished" and record.tokens_sent == 9 and record.request is None
    assert len(record.token_times) == 9 and before < record.token_times[0] <= record.token_times[-1] < time.monotonic()


def test_a_fault_reaches_the_process() -> None:
    with StandinProcess(pace_seconds=0, fault=BeforeStreamFault("ThrottlingException")) as standin:
        with pytest.raises(ClientError) as caught:
            client_for(standin).converse_stream(modelId=MODEL, messages=user("x"))  # type: ignore[arg-type]
        assert caught.value.response["Error"]["Code"] == "ThrottlingException"


def test_the_process_ends_with_its_parent() -> None:
    # The parent here is a short-lived Python that starts the stand-in and is killed without stopping it.
    code = (
        "import sys, time; sys.path[:0] = sys.argv[1:]\n"
        "from streaming_bedrock_local.standin_process import StandinProcess\n"
        "s = StandinProcess(pace_seconds=0).start(); print(s._process.pid, flush=True); time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code, *sys.path], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{child}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break  # exited, waiting to be reaped by init
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"stand-in process {child} still runs after its parent was killed")
