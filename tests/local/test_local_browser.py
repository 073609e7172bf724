"""The demo page in headless Chromium, served from another origin than the API: the answer appears piece by
piece and completes, in plain-text and SSE mode, and errors are shown."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from streaming_bedrock_local.bedrock_standin import MidStreamFault, RequestPlan

from .conftest import RunningStack, expected_answer, next_record, running_stack

# Debian's chromium by default; CHROMIUM_PATH names another Chromium or Chrome binary (e.g. on GitHub runners).
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium")
DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
ANSWER_TOKENS = 40
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]

pytestmark = pytest.mark.browser


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_server() -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(DEMO_DIR))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, page_server: str) -> Iterator[RunningStack]:
    # Only the page's origin is allowed, so the test also proves the CORS headers work in a real browser.
    with running_stack(
        tmp_path_factory.mktemp("browser"),
        settings={"allowed_origins": [page_server]},
        answer_tokens=ANSWER_TOKENS,
        pace_seconds=0.02,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing under CI; install Debian's chromium or set CHROMIUM_PATH")
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium or set CHROMIUM_PATH to run the browser test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
        )
        yield instance
        instance.close()


# Records (time, text length) every time the output changes, inside the page.
_WATCH_OUTPUT = """
() => {
  window.__growth = [];
  const output = document.getElementById('output');
  new MutationObserver(() => window.__growth.push([performance.now(), output.textContent.length]))
    .observe(output, {childList: true, characterData: true, subtree: true});
}
"""


def _run_page(browser: Any, page_server: str, api: RunningStack, prompt: str, fmt: str, key: str) -> Any:
    page = browser.new_page()
    query = urlencode({"endpoint": api.url, "key": key, "format": fmt, "prompt": prompt})
    page.goto(f"{page_server}/index.html?{query}")
    page.evaluate(_WATCH_OUTPUT)
    page.click("#send")
    page.wait_for_function("() => ['done', 'error'].includes(document.body.dataset.state)", timeout=30_000)
    return page


@pytest.mark.parametrize("fmt", ["plain", "sse"])
def test_page_renders_the_stream_incrementally(browser: Any, page_server: str, api: RunningStack, fmt: str) -> None:
    prompt = f"browser {fmt}"
    page = _run_page(browser, page_server, api, prompt, fmt, api.api_key or "")
    try:
        assert page.evaluate("document.body.dataset.state") == "done", page.inner_text("#error")
        assert page.inner_text("#output") == expected_answer(prompt, ANSWER_TOKENS)
        growth = page.evaluate("window.__growth")
        lengths = [length for _, length in growth]
        # Incremental: many distinct partial states, spread over the stand-in's pacing (40 tokens x 20 ms).
        assert len(set(lengths)) >= 5
        assert lengths == sorted(lengths)
        assert growth[-1][0] - growth[0][0] > 200
        assert page.inner_text("#ttft").endswith("ms")
        assert float(page.inner_text("#tps")) > 0
        if fmt == "sse":
            assert page.inner_text("#tokens") == str(ANSWER_TOKENS)  # from the usage event
            assert "end_turn" in page.inner_text("#status")
    finally:
        page.close()


def test_page_shows_gateway_errors(browser: Any, page_server: str, api: RunningStack) -> None:
    page = _run_page(browser, page_server, api, "no key", "plain", "wrong-key")
    try:
        assert page.evaluate("document.body.dataset.state") == "error"
        # The 403 is readable cross-origin because the gateway response carries CORS headers.
        assert "HTTP 403" in page.inner_text("#error") and "Forbidden" in page.inner_text("#error")
    finally:
        page.close()


@pytest.mark.parametrize("fmt", ["plain", "sse"])
def test_page_shows_a_stream_that_failed_midway(browser: Any, page_server: str, api: RunningStack, fmt: str) -> None:
    api.standin.push(RequestPlan(fault=MidStreamFault("modelStreamErrorException", after_deltas=4)))
    page = _run_page(browser, page_server, api, f"fail {fmt}", fmt, api.api_key or "")
    try:
        assert page.evaluate("document.body.dataset.state") == "error"
        error = page.inner_text("#error")
        # Plain text: the gateway ends the response without its last chunk, which the reader reports.
        assert ("ended abnormally" in error) if fmt == "plain" else ("failed mid-answer" in error)
        assert expected_answer(f"fail {fmt}", ANSWER_TOKENS).startswith(page.inner_text("#output"))
        assert page.inner_text("#output")
    finally:
        page.close()


def test_stop_button_disconnects_and_the_standin_stops_early(browser: Any, page_server: str, api: RunningStack) -> None:
    before = len(api.standin.records())
    api.standin.push(RequestPlan(answer_tokens=400, pace_seconds=0.02))
    page = browser.new_page()
    try:
        query = urlencode({"endpoint": api.url, "key": api.api_key or "", "prompt": "stop me"})
        page.goto(f"{page_server}/index.html?{query}")
        page.click("#send")
        page.wait_for_function("() => document.getElementById('output').textContent.length > 40", timeout=20_000)
        page.click("#stop")
        page.wait_for_function("() => document.body.dataset.state === 'idle'", timeout=10_000)
        record = next_record(api.standin, before)
        assert record.outcome == "disconnected"
        assert record.tokens_sent < 200  # 400 tokens would take 8 s
    finally:
        page.close()
