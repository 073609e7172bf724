"""Which Bedrock client the packaged function builds, and that both give the same bytes end to end."""

from __future__ import annotations

import time

import pytest

from tests.function.fn_integration_harness import Harness, expected_answer, prompt_event


def client_line(harness: Harness) -> dict[str, object]:
    assert harness.process is not None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [r for r in harness.process.log_records() if r.get("message") == "bedrock client"]
        if lines:
            assert len(lines) == 1
            return lines[0]
        time.sleep(0.02)
    raise AssertionError(harness.process.output()[-2000:])


@pytest.mark.parametrize(
    ("overrides", "client", "reason"),
    [({}, "lean", None), ({"BEDROCK_CLIENT": "botocore"}, "botocore", "BEDROCK_CLIENT=botocore")],
    ids=["lambda-environment", "opt-out"],
)
def test_the_client_is_logged_at_init_and_answers_byte_exact(
    fresh_harness: Harness, overrides: dict[str, str | None], client: str, reason: str | None
) -> None:
    fresh_harness.env_overrides.update(overrides)
    fresh_harness.start_function()
    line = client_line(fresh_harness)  # written during init, before the first /next
    assert line["client"] == client and line.get("reason") == reason
    for sse in (False, True):
        response = fresh_harness.call(prompt_event("same bytes either way", sse=sse))
        assert response.status == 200
        if not sse:
            assert response.payload == expected_answer("same bytes either way").text.encode()
    record = fresh_harness.standin.records()[-1]
    assert record.access_key_id == "AKIDLOCALFUNCTION" and record.outcome == "finished"
