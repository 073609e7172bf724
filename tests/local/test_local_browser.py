"""The demo page in headless Chromium, served from another origin than the API: the answer appears piece by
piece and completes, in plain-text and SSE mode, rendered as paragraphs, lists and code blocks (markup in the
answer shown, never run), with live figures; errors name their likely cause; the layout holds at phone width.

Screenshots go to ``$DEMO_SCREENSHOTS`` when set (to look at the page as a user would), else to a temp folder."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from streaming_bedrock_local.bedrock_standin import BeforeStreamFault, MidStreamFault, RequestPlan

from tests.loopback import serving

from .conftest import RunningStack, expected_answer, free_port, next_record, running_stack

# Debian's chromium by default; CHROMIUM_PATH names another Chromium or Chrome binary (e.g. on GitHub runners).
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium")
DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
ANSWER_TOKENS = 40
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
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


@contextmanager
def _serve_demo() -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(DEMO_DIR))
    with serving(handler) as url:
        yield url


@pytest.fixture(scope="module")
def page_server() -> Iterator[str]:
    with _serve_demo() as origin:
        yield origin


@pytest.fixture(scope="module")
def other_origin() -> Iterator[str]:
    """The same page from an origin the API does not allow."""
    with _serve_demo() as origin:
        yield origin


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("DEMO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("screenshots")


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


# Records (time, text length) every time the output changes, and the live figures and page state at that
# moment, inside the page.
_WATCH_OUTPUT = """
() => {
  window.__growth = [];
  window.__figures = [];
  const output = document.getElementById('output');
  const text = (id) => document.getElementById(id).textContent;
  new MutationObserver(() => {
    window.__growth.push([performance.now(), output.textContent.length]);
    window.__figures.push([document.body.dataset.state, text('ttft'), text('tps')]);
  }).observe(output, {childList: true, characterData: true, subtree: true});
}
"""


def _run_page(
    browser: Any,
    page_server: str,
    api: RunningStack,
    prompt: str,
    fmt: str,
    key: str,
    *,
    endpoint: str | None = None,
    viewport: dict[str, int] | None = None,
) -> Any:
    page = browser.new_page(viewport=viewport or DESKTOP)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:  # an alert() would mean answer text ran as code
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.dialogs = dialogs
    query = urlencode({"endpoint": endpoint or api.url, "key": key, "format": fmt, "prompt": prompt})
    page.goto(f"{page_server}/index.html?{query}")
    page.evaluate(_WATCH_OUTPUT)
    page.click("#send")
    page.wait_for_function("() => ['done', 'error'].includes(document.body.dataset.state)", timeout=30_000)
    return page


def _error_text(page: Any) -> str:
    assert page.evaluate("document.body.dataset.state") == "error"
    return str(page.inner_text("#error"))


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
        # The figures are live: time to first token is shown by the time the first text is, and tokens/s
        # changes while the answer streams.
        figures = page.evaluate("window.__figures")
        assert figures[0][1].endswith("ms") and not figures[0][1].endswith("…")
        streaming_rates = {tps for state, _, tps in figures if state == "streaming" and tps[0].isdigit()}
        assert len(streaming_rates) >= 3, figures
        if fmt == "sse":
            assert page.inner_text("#tokens") == str(ANSWER_TOKENS)  # from the usage event
            assert "end_turn" in page.inner_text("#status")
    finally:
        page.close()


def test_page_shows_gateway_errors(browser: Any, page_server: str, api: RunningStack) -> None:
    page = _run_page(browser, page_server, api, "no key", "plain", "wrong-key")
    try:
        error = _error_text(page)
        # The 403 is readable cross-origin because the gateway response carries CORS headers.
        assert "HTTP 403" in error and "Forbidden" in error
        assert "API key was not accepted" in error
    finally:
        page.close()


def test_page_says_when_the_key_is_missing(browser: Any, page_server: str, api: RunningStack) -> None:
    page = _run_page(browser, page_server, api, "no key at all", "plain", "")
    try:
        error = _error_text(page)
        # No key header: API Gateway's 401 (the authorizer's identity source is missing), OpenAI-shaped body.
        assert "HTTP 401" in error and "needs an API key" in error and "not accepted" not in error
    finally:
        page.close()


def test_page_names_a_wrong_path(browser: Any, page_server: str, api: RunningStack) -> None:
    # The preflight to an unknown path gets 403, so fetch() only rejects; the page's probes find out why.
    wrong = f"{api.base}/{api.settings.stage_name}/nope"
    page = _run_page(browser, page_server, api, "wrong path", "plain", api.api_key or "", endpoint=wrong)
    try:
        error = _error_text(page)
        assert f"No API at /{api.settings.stage_name}/nope" in error and "Missing Authentication Token" in error
        assert "stage and path" in error
        assert "CORS" not in error and "running" not in error
    finally:
        page.close()


def test_page_says_when_nothing_answers(browser: Any, page_server: str, api: RunningStack) -> None:
    down = f"http://127.0.0.1:{free_port()}/prod/stream"
    page = _run_page(browser, page_server, api, "down", "plain", "k", endpoint=down)
    try:
        error = _error_text(page)
        assert "Nothing answers at http://127.0.0.1:" in error and "local stack running" in error
        assert "CORS" not in error
    finally:
        page.close()


def test_page_says_when_cors_refuses_its_origin(browser: Any, other_origin: str, api: RunningStack) -> None:
    page = _run_page(browser, other_origin, api, "cors", "plain", api.api_key or "")
    try:
        error = _error_text(page)
        assert "CORS" in error and other_origin in error and "allowedOrigins" in error and "--serve-demo" in error
        assert "Nothing answers" not in error and "No API at" not in error
    finally:
        page.close()


def test_page_throttled_message_says_it_once(browser: Any, page_server: str, api: RunningStack) -> None:
    api.standin.fault = BeforeStreamFault("ThrottlingException")  # for every attempt (boto3 retries throttling)
    try:
        page = _run_page(browser, page_server, api, "throttled", "plain", api.api_key or "")
    finally:
        api.standin.fault = None
    try:
        error = _error_text(page)
        assert error.startswith("HTTP 429")
        assert error.lower().count("throttl") == 1 and error.lower().count("retry") == 1, error
        assert "retry after 2 s" in error
    finally:
        page.close()


_MARKDOWN_ANSWER = (
    "Streaming sends the answer **as it is generated**, so the first words show up at once.",
    "\n\nHere is a call with `curl`:\n\n```sh\ncurl --no-buffer -X POST http://127.0.0.1:3000/prod/stream",
    " -H 'Content-Type: application/json' -d '{\"prompt\":\"a very long line that must scroll inside its own box\"}'",
    "\n```\n\nSteps:\n\n- the gateway relays each chunk\n- the page renders",
    " it\n\nMarkup stays text: <script>alert('x')</script> <b>not bold</b> <img src=x onerror=alert(1)> café 日本語.",
)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_page_renders_the_answer_readably(
    browser: Any, page_server: str, api: RunningStack, screenshots: Path, viewport: dict[str, int]
) -> None:
    api.standin.push(RequestPlan(answer_chunks=_MARKDOWN_ANSWER))
    page = _run_page(browser, page_server, api, "markdown", "sse", api.api_key or "", viewport=viewport)
    try:
        assert page.evaluate("document.body.dataset.state") == "done", page.inner_text("#error")
        shape = page.evaluate(
            """() => {
              const out = document.getElementById('output');
              return {
                blocks: [...out.children].map((n) => n.tagName),
                strong: [...out.querySelectorAll('p strong')].map((n) => n.textContent),
                inline: [...out.querySelectorAll('p code')].map((n) => n.textContent),
                code: out.querySelector('pre code')?.textContent,
                lang: out.querySelector('pre')?.dataset.lang,
                items: [...out.querySelectorAll('ul li')].map((n) => n.textContent),
                last: out.lastElementChild.textContent,
                injected: out.querySelectorAll('script, b, img').length,
              };
            }"""
        )
        assert shape["blocks"] == ["P", "P", "PRE", "P", "UL", "P"]
        assert shape["strong"] == ["as it is generated"] and shape["inline"] == ["curl"]
        assert shape["code"].startswith("curl --no-buffer") and shape["code"].endswith("its own box\"}'")
        assert shape["lang"] == "sh" and shape["items"] == ["the gateway relays each chunk", "the page renders it"]
        assert "<script>alert('x')</script> <b>not bold</b>" in shape["last"] and "日本語" in shape["last"]
        assert shape["injected"] == 0 and page.dialogs == []
        assert page.inner_text("#tokens") == str(len(_MARKDOWN_ANSWER))
        # Nothing wider than the screen: the long code line scrolls inside its own box.
        layout = page.evaluate(
            """() => {
              const pre = document.querySelector('#output pre');
              const widest = Math.max(...[...document.querySelectorAll('body *')]
                .filter((n) => !pre.contains(n)).map((n) => n.getBoundingClientRect().right));
              return {page: document.documentElement.scrollWidth, view: window.innerWidth, widest,
                      preRight: pre.getBoundingClientRect().right, preScrolls: pre.scrollWidth > pre.clientWidth,
                      send: document.getElementById('send').getBoundingClientRect().right};
            }"""
        )
        assert layout["page"] <= layout["view"] and layout["widest"] <= layout["view"] + 0.5, layout
        assert layout["preRight"] <= layout["view"] and layout["preScrolls"], layout
        page.screenshot(path=str(screenshots / f"demo-answer-{viewport['width']}.png"), full_page=True)
    finally:
        page.close()


def test_page_error_layout_at_phone_width(browser: Any, page_server: str, api: RunningStack, screenshots: Path) -> None:
    wrong = f"{api.base}/{api.settings.stage_name}/nope"
    page = _run_page(browser, page_server, api, "wrong path", "plain", "k", endpoint=wrong, viewport=PHONE)
    try:
        _error_text(page)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], width
        page.screenshot(path=str(screenshots / "demo-error-375.png"), full_page=True)
    finally:
        page.close()


@pytest.mark.parametrize("fmt", ["plain", "sse"])
def test_page_shows_a_stream_that_failed_midway(browser: Any, page_server: str, api: RunningStack, fmt: str) -> None:
    # Paced, so the failure comes well after the first chunks reached the page: a stream that errors discards the
    # chunks its reader has not taken yet (WHATWG Streams, ReadableStreamDefaultController.error), so an unpaced
    # failure could land in the same read as the text under load and leave nothing to show.
    plan = RequestPlan(fault=MidStreamFault("modelStreamErrorException", after_deltas=4), pace_seconds=0.1)
    api.standin.push(plan)
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


def test_page_served_by_the_gateway_needs_no_cors(browser: Any, api: RunningStack) -> None:
    # --serve-demo: the page comes from the API's own origin, which allowedOrigins does not list; same-origin
    # calls need no CORS, so it streams anyway.
    options = api.server.options
    api.server.options = dataclasses.replace(options, demo_html=(DEMO_DIR / "index.html").read_bytes())
    page = browser.new_page(viewport=DESKTOP)
    try:
        assert api.base not in api.settings.allowed_origins
        query = urlencode({"endpoint": api.url, "key": api.api_key or "", "prompt": "same origin"})
        page.goto(f"{api.base}/demo/?{query}")
        page.click("#send")
        page.wait_for_function("() => ['done', 'error'].includes(document.body.dataset.state)", timeout=30_000)
        assert page.evaluate("document.body.dataset.state") == "done", page.inner_text("#error")
        assert page.inner_text("#output") == expected_answer("same origin", ANSWER_TOKENS)
    finally:
        page.close()
        api.server.options = options


def _wait_for_turns(page: Any, turns: int) -> None:
    page.wait_for_function(
        f"() => ['done', 'error'].includes(document.body.dataset.state) && window.__sent === {turns}", timeout=30_000)


def test_chat_mode_is_a_multi_turn_conversation(
    browser: Any, page_server: str, api: RunningStack, screenshots: Path
) -> None:
    """Chat mode talks to <stage>/v1/chat/completions with a Bearer key and sends the whole conversation."""
    page = browser.new_page(viewport=DESKTOP)
    query = urlencode({"endpoint": api.url, "key": api.api_key or "", "format": "chat", "prompt": "first question"})
    page.goto(f"{page_server}/index.html?{query}")
    try:
        assert page.is_visible("#new-chat")
        page.evaluate("window.__sent = 0; document.getElementById('form').addEventListener('submit', "
                      "() => { window.__sent += 1; }, {capture: true})")
        page.click("#send")
        _wait_for_turns(page, 1)
        assert page.evaluate("document.body.dataset.state") == "done", page.inner_text("#error")
        first = expected_answer("first question", ANSWER_TOKENS)
        assert page.inner_text("#output") == first and page.inner_text("#tokens") == str(ANSWER_TOKENS)
        assert "stop" in page.inner_text("#status") and page.input_value("#prompt") == ""

        page.fill("#prompt", "second question")
        page.click("#send")
        _wait_for_turns(page, 2)
        assert page.evaluate("document.body.dataset.state") == "done", page.inner_text("#error")
        assert page.inner_text("#output") == expected_answer("second question", ANSWER_TOKENS)
        turns = page.evaluate("[...document.querySelectorAll('#transcript .turn')].map((n) => [n.className, "
                              "n.textContent])")
        # The earlier turn, then the question being answered (its answer is the output below).
        assert turns == [["turn user", "first question"], ["turn assistant", first], ["turn user", "second question"]]
        # The second request carried the first turn: user, assistant (the first answer), user.
        request = api.standin.records()[-1].request
        assert request is not None
        assert [(m["role"], m["content"][0]["text"]) for m in request["messages"]] == [
            ("user", "first question"), ("assistant", first), ("user", "second question")]
        page.screenshot(path=str(screenshots / "demo-chat-1280.png"), full_page=True)

        page.click("#new-chat")
        assert page.inner_text("#transcript") == "" and page.inner_text("#output") == ""
        page.fill("#prompt", "fresh start")
        page.click("#send")
        _wait_for_turns(page, 3)
        request = api.standin.records()[-1].request
        assert request is not None and len(request["messages"]) == 1
    finally:
        page.close()


def test_chat_mode_without_a_key_says_so(browser: Any, page_server: str, api: RunningStack) -> None:
    page = _run_page(browser, page_server, api, "no key", "chat", "")
    try:
        error = _error_text(page)
        assert "HTTP 401" in error and "needs an API key" in error
    finally:
        page.close()
