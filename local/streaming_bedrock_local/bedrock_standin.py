"""An offline stand-in for Amazon Bedrock Runtime ``ConverseStream`` that speaks the real wire format.

``POST /model/{modelId}/converse-stream`` answers like Bedrock: ``200`` with
``application/vnd.amazon.eventstream`` streamed frame by frame over chunked transfer encoding
(``messageStart``, one ``contentBlockDelta`` per token, ``contentBlockStop``, ``messageStop``,
``metadata``), or Bedrock's HTTP error shape (status, ``x-amzn-ErrorType``, JSON ``{"message"}``).
The unmodified boto3 ``bedrock-runtime`` client parses it; point it here with ``endpoint_url`` or
``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``.

The answer is a pure function of the request (``standin_answer``), always labelled ``[stand-in model]``,
so tests compute expected bytes independently of the server. Faults (errors before the stream,
exception frames mid-stream) are set on the server or queued per request with ``push``. Every request
leaves a ``StandinRecord`` (tokens sent, finished or client-disconnected, the time each token was
written, on ``time.monotonic``) so tests can prove causality: the client saw bytes while the stand-in
was still sending; a disconnect stopped the stand-in early. Records keep the request body (the prompt)
and are kept forever unless the server is built with ``keep_request_bodies=False`` / ``max_records``, as
the CLI's long-running stand-in is.

Usage::

    with BedrockStandin(pace_seconds=0) as standin:
        client = boto3.client("bedrock-runtime", endpoint_url=standin.endpoint_url, ...)
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import select
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import unquote

from streaming_bedrock_local.converse_rules import check_converse_request
from streaming_bedrock_local.eventstream import encode_event, encode_exception
from streaming_bedrock_local.loopback_http import LoopbackHTTPServer
from streaming_bedrock_local.standin_features import check_features, feature_frames, plan_features
from streaming_bedrock_local.standin_guardrail import apply_guardrail, check_guardrail_config
from streaming_bedrock_local.standin_metadata import check_request_metadata

log = logging.getLogger(__name__)

STANDIN_LABEL = "[stand-in model]"
DEFAULT_ANSWER_TOKENS = 48
DEFAULT_PACE_SECONDS = 0.02
DEFAULT_MAX_TOKENS = 4096
EVENTSTREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"
MAX_REQUEST_BYTES = 20 * 1024 * 1024
RECORDS_PATH = "/_standin/records"

# Bedrock's pre-stream errors and their HTTP statuses (botocore's bedrock-runtime service model).
PRE_STREAM_ERRORS: Mapping[str, int] = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ModelErrorException": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}
# Exception members of the ConverseStreamOutput event stream.
MID_STREAM_EXCEPTIONS: frozenset[str] = frozenset(
    {
        "internalServerException",
        "modelStreamErrorException",
        "validationException",
        "throttlingException",
        "serviceUnavailableException",
    }
)

# The answer is whole sentences, clearly not a model's, each with multibyte text (—, →, café, naïve, λ, 日本語, “ ”)
# so that UTF-8 split across chunks is exercised end to end. Each prompt starts at its own sentence, so
# concurrent answers differ. An answer cycles through _SENTENCES, taking a shorter one where the next is too
# long for the words left; _CLOSERS fill the last few words exactly, so an answer of any length ends on a full
# stop (a one-word closer always fits).
_SENTENCES: tuple[str, ...] = (
    "This answer comes from the local stand-in—not from Amazon Bedrock.",
    "It arrives one word at a time: boto3 → runtime → gateway → you.",
    "Words like café, naïve, λ and 日本語 check that UTF-8 survives chunk boundaries.",
    "Use --bedrock real to ask the real model; this one only says “hello”.",
    "The gateway relays every chunk the moment it arrives—no buffering.",
    "Time to first token is what a user feels—so it stays short.",
    "A café menu could be streamed the same way.",
    "Naïve buffering would hide all of this.",
    "日本語 text streams just as well.",
)
_CLOSERS: tuple[str, ...] = (
    "Déjà vu, every answer rhymes.",
    "Thank you for reading—merci.",
    "And that's it—merci.",
    "That's all—merci.",
    "Voilà.",
)
_SENTENCE_WORDS: tuple[tuple[str, ...], ...] = tuple(tuple(sentence.split()) for sentence in _SENTENCES)
_CLOSER_WORDS: tuple[tuple[str, ...], ...] = tuple(
    sorted((tuple(sentence.split()) for sentence in _CLOSERS), key=len, reverse=True)
)


def _answer_words(count: int, start: int) -> list[str]:
    """``count`` words of whole sentences, cycling from sentence ``start``; where the next sentence is too long
    for the words left, one that fits (picked by the position in the cycle), and last a closer."""
    words: list[str] = []
    index = start
    while len(words) < count:
        left = count - len(words)
        sentence = _SENTENCE_WORDS[index % len(_SENTENCE_WORDS)]
        if len(sentence) > left:
            fitting = [s for s in _SENTENCE_WORDS if len(s) <= left]
            if fitting:
                sentence = fitting[index % len(fitting)]
            else:
                sentence = next(closer for closer in _CLOSER_WORDS if len(closer) <= left)  # the longest that fits
        index += 1
        words.extend(sentence)
    return words


_PATH = re.compile(r"^/model/(?P<model>[^/]+)/converse-stream$")
_ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


@dataclass(frozen=True)
class StandinAnswer:
    """What the stand-in streams for one request: one text delta per token."""

    chunks: tuple[str, ...]
    stop_reason: str
    input_tokens: int
    # metadata.trace.guardrail of a guarded request with tracing on (standin_guardrail.py).
    trace: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def output_tokens(self) -> int:
        return len(self.chunks)


class StandinValidationError(ValueError):
    """The request would get a ValidationException from Bedrock."""


def _text_blocks(content: Any) -> list[str]:
    if not isinstance(content, list):
        return []
    return [block["text"] for block in content if isinstance(block, dict) and isinstance(block.get("text"), str)]


def _max_tokens(request_body: Mapping[str, Any]) -> int:
    config = request_body.get("inferenceConfig") or {}
    if not isinstance(config, dict):
        raise StandinValidationError("inferenceConfig must be an object")
    value: object = config.get("maxTokens", DEFAULT_MAX_TOKENS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise StandinValidationError("inferenceConfig.maxTokens must be an integer >= 1")
    return value


def standin_answer(request_body: Mapping[str, Any], *, answer_tokens: int = DEFAULT_ANSWER_TOKENS) -> StandinAnswer:
    """The deterministic answer to a ConverseStream request body (as sent on the wire, camelCase).

    The full answer is ``answer_tokens`` deltas: the label, then one word per delta of whole sentences, from a
    starting sentence picked by a hash of the last user turn's text, ending on a full stop.
    ``inferenceConfig.maxTokens`` cuts it (``stop_reason`` max_tokens).
    Raises ``StandinValidationError`` for requests Bedrock would reject.
    """
    if answer_tokens < 1:
        raise ValueError("answer_tokens must be >= 1")
    messages = request_body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise StandinValidationError("messages must be a non-empty list")
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise StandinValidationError("each message needs role 'user' or 'assistant'")
        if not isinstance(message.get("content"), list) or not message["content"]:
            raise StandinValidationError("each message needs a non-empty content list")
    if messages[0]["role"] != "user":
        raise StandinValidationError("A conversation must start with a user message.")
    max_tokens = _max_tokens(request_body)

    user_turns = [m for m in messages if m["role"] == "user"]
    prompt = "\n".join(_text_blocks(user_turns[-1]["content"]))
    all_text = [t for m in messages for t in _text_blocks(m["content"])]
    all_text += _text_blocks(request_body.get("system"))
    input_tokens = max(1, sum(len(t.split()) for t in all_text))

    seed = int.from_bytes(hashlib.sha256(prompt.encode("utf-8")).digest()[:4], "big")
    chunks = [STANDIN_LABEL, *(" " + word for word in _answer_words(answer_tokens - 1, seed))]
    if max_tokens < answer_tokens:
        return StandinAnswer(tuple(chunks[:max_tokens]), "max_tokens", input_tokens)
    return StandinAnswer(tuple(chunks), "end_turn", input_tokens)


@dataclass(frozen=True)
class BeforeStreamFault:
    """Answer with Bedrock's HTTP error shape instead of a stream."""

    error_type: str
    message: str = "stand-in injected error"

    def __post_init__(self) -> None:
        if self.error_type not in PRE_STREAM_ERRORS:
            raise ValueError(f"unknown pre-stream error {self.error_type!r}; one of {sorted(PRE_STREAM_ERRORS)}")

    @property
    def status(self) -> int:
        return PRE_STREAM_ERRORS[self.error_type]


@dataclass(frozen=True)
class MidStreamFault:
    """Send an exception frame after ``after_deltas`` text deltas, then end the stream."""

    exception_type: str
    after_deltas: int = 1
    message: str = "stand-in injected stream error"

    def __post_init__(self) -> None:
        if self.exception_type not in MID_STREAM_EXCEPTIONS:
            raise ValueError(
                f"unknown mid-stream exception {self.exception_type!r}; one of {sorted(MID_STREAM_EXCEPTIONS)}"
            )
        if self.after_deltas < 0:
            raise ValueError("after_deltas must be >= 0")


Fault = BeforeStreamFault | MidStreamFault


@dataclass(frozen=True)
class RequestPlan:
    """Per-request overrides, consumed in order by the next requests (``None`` = server setting)."""

    fault: Fault | None = None
    pace_seconds: float | None = None
    answer_tokens: int | None = None
    # A scripted answer (one text delta each) instead of the computed one, e.g. Markdown for the demo page's test.
    answer_chunks: tuple[str, ...] | None = None
    # The messageStop stopReason to send instead of end_turn/max_tokens (any string, known to AWS or not).
    stop_reason: str | None = None


Outcome = Literal["pending", "streaming", "finished", "disconnected", "error_before_stream", "error_mid_stream"]


@dataclass
class StandinRecord:
    """What happened to one request. Times are ``time.monotonic()`` in this process; a token's time is
    taken just before its frame is written (only tokens whose write succeeded are counted)."""

    index: int
    model_id: str
    received_at: float
    access_key_id: str | None = None
    request: dict[str, Any] | None = None
    status: int | None = None
    error_type: str | None = None
    outcome: Outcome = "pending"
    tokens_planned: int = 0
    tokens_sent: int = 0
    first_token_at: float | None = None
    last_token_at: float | None = None
    ended_at: float | None = None
    token_times: list[float] = field(default_factory=list, repr=False)
    done: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)


def error_response_parts(error_type: str, message: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of Bedrock's error shape for ``error_type``."""
    body = json.dumps({"message": message}).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "x-amzn-ErrorType": error_type + _ERROR_TYPE_SUFFIX,
        "x-amzn-RequestId": str(uuid.uuid4()),
        "Content-Length": str(len(body)),
    }
    return PRE_STREAM_ERRORS[error_type], headers, body


def answer_frames(answer: StandinAnswer, fault: MidStreamFault | None, latency_ms: int = 0) -> list[tuple[str, bytes]]:
    """(event or exception type, frame) for one streamed answer, in order (pure; the server paces them).

    Payloads carry a ``p`` padding field as real Bedrock events do; clients must ignore it.
    """
    frames = [("messageStart", encode_event("messageStart", {"role": "assistant", "p": "abcd"}))]
    for index, text in enumerate(answer.chunks):
        if fault is not None and index == fault.after_deltas:
            break
        delta = {"contentBlockIndex": 0, "delta": {"text": text}, "p": "ab"}
        frames.append(("contentBlockDelta", encode_event("contentBlockDelta", delta)))
    if fault is not None and fault.after_deltas <= len(answer.chunks):
        payload: dict[str, Any] = {"message": fault.message}
        if fault.exception_type == "modelStreamErrorException":
            payload.update(originalStatusCode=500, originalMessage="stand-in model failure")
        frames.append((fault.exception_type, encode_exception(fault.exception_type, payload)))
        return frames
    usage = {
        "inputTokens": answer.input_tokens,
        "outputTokens": answer.output_tokens,
        "totalTokens": answer.input_tokens + answer.output_tokens,
    }
    frames += [
        ("contentBlockStop", encode_event("contentBlockStop", {"contentBlockIndex": 0, "p": "abc"})),
        ("messageStop", encode_event("messageStop", {"stopReason": answer.stop_reason, "p": "abcdef"})),
        ("metadata", encode_event("metadata", _metadata(answer, usage, latency_ms))),
    ]
    return frames


def _metadata(answer: StandinAnswer, usage: dict[str, int], latency_ms: int) -> dict[str, Any]:
    metadata: dict[str, Any] = {"usage": usage, "metrics": {"latencyMs": latency_ms}, "p": "a"}
    if answer.trace is not None:
        metadata["trace"] = {"guardrail": answer.trace}
    return metadata


class _StandinHTTPServer(LoopbackHTTPServer):
    standin: BedrockStandin


class _StandinHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _StandinHTTPServer
    server_version = "BedrockStandin/1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("stand-in %s " + format, self.client_address, *args)

    def _send_error(self, error_type: str, message: str) -> None:
        status, headers, body = error_response_parts(error_type, message)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        standin = self.server.standin
        match = _PATH.match(self.path.split("?", 1)[0])
        length_header = self.headers.get("Content-Length", "0")
        length = int(length_header) if length_header.isdigit() else -1
        if length < 0 or length > MAX_REQUEST_BYTES:
            self.close_connection = True
            self._send_error("ValidationException", "Content-Length missing or too large")
            return
        raw = self.rfile.read(length)
        if match is None:
            self.send_response(404)
            self.send_header("x-amzn-ErrorType", "UnknownOperationException")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        record = standin._new_record(unquote(match.group("model")), self.headers.get("Authorization"))
        try:
            self._serve(standin, record, raw)
        finally:
            record.ended_at = time.monotonic()
            record.done.set()
            standin._record_done()

    def do_GET(self) -> None:
        # Not Bedrock's API: the control path a stand-in in another process is read through (standin_process).
        if self.path == RECORDS_PATH:
            body = json.dumps(self.server.standin.records_document()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _serve(self, standin: BedrockStandin, record: StandinRecord, raw: bytes) -> None:
        plan = standin._take_plan()
        fault = plan.fault if plan.fault is not None else standin.fault
        pace = plan.pace_seconds if plan.pace_seconds is not None else standin.pace_seconds
        tokens = plan.answer_tokens if plan.answer_tokens is not None else standin.answer_tokens

        def reject(error_type: str, message: str) -> None:
            record.status = PRE_STREAM_ERRORS[error_type]
            record.error_type = error_type
            record.outcome = "error_before_stream"
            self._send_error(error_type, message)

        if record.access_key_id is None:
            # Real Bedrock refuses unsigned calls; the function must sign with SigV4 even locally.
            return reject("AccessDeniedException", "Missing or malformed SigV4 Authorization header")
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise StandinValidationError("request body must be a JSON object")
            if standin.keep_request_bodies:
                record.request = body
            if standin.model_ids is not None and record.model_id not in standin.model_ids:
                raise StandinValidationError("The provided model identifier is invalid.")
            check_converse_request(record.model_id, body)  # Bedrock's own refusals (converse_rules, cited there)
            check_request_metadata(body)
            check_guardrail_config(body)
            answer = standin_answer(body, answer_tokens=tokens)
            if plan.answer_chunks is not None:
                answer = StandinAnswer(plan.answer_chunks, "end_turn", answer.input_tokens)
            if plan.stop_reason is not None:
                answer = replace(answer, stop_reason=plan.stop_reason)
            answer = apply_guardrail(body, answer)
            check_features(body)
        except ValueError as exc:  # bad JSON or StandinValidationError
            return reject("ValidationException", str(exc))
        if isinstance(fault, BeforeStreamFault):
            return reject(fault.error_type, fault.message)

        mid = fault if isinstance(fault, MidStreamFault) else None
        latency_ms = int(standin.first_token_delay_seconds * 1000)
        features = plan_features(body)
        if features.active:  # reasoning, tool use or cache usage (standin_features.py)
            frames = feature_frames(answer.chunks, answer.stop_reason, answer.input_tokens, features,
                                    None if mid is None else (mid.exception_type, mid.after_deltas, mid.message),
                                    latency_ms)
        else:
            frames = answer_frames(answer, mid, latency_ms=latency_ms)
        record.tokens_planned = sum(1 for kind, _ in frames if kind == "contentBlockDelta")
        record.status = 200
        record.outcome = "streaming"
        self.send_response(200)
        self.send_header("Content-Type", EVENTSTREAM_CONTENT_TYPE)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        for kind, frame in frames:
            is_delta = kind == "contentBlockDelta"
            if is_delta:
                wait = standin.first_token_delay_seconds if record.tokens_sent == 0 else pace
                if self._client_gone(wait) or standin._stopping.is_set():
                    record.outcome = "disconnected"
                    self.close_connection = True
                    return
            # Stamped before the write: the moment the token leaves, so a receiver never sees it "earlier".
            sent_at = time.monotonic()
            if not self._write_chunk(frame):
                record.outcome = "disconnected"
                self.close_connection = True
                return
            if is_delta:
                record.tokens_sent += 1
                record.first_token_at = record.first_token_at or sent_at
                record.last_token_at = sent_at
                record.token_times.append(sent_at)
        if not self._write_chunk(b""):
            record.outcome = "disconnected"
            self.close_connection = True
            return
        if mid is not None and frames[-1][0] == mid.exception_type:
            record.outcome, record.error_type = "error_mid_stream", mid.exception_type
        else:
            record.outcome = "finished"

    def _write_chunk(self, data: bytes) -> bool:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            return True
        except OSError:
            return False

    def _client_gone(self, wait: float) -> bool:
        """Sleep ``wait`` seconds, waking early if the client closed the connection (EOF or reset)."""
        sock = self.connection
        deadline = time.monotonic() + wait
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            readable, _, _ = select.select([sock], [], [], remaining)
            if readable:
                try:
                    if sock.recv(1, socket.MSG_PEEK) == b"":
                        return True
                except OSError:
                    return True
                # A client does not pipeline while reading a stream; stray bytes are not a disconnect.
                time.sleep(remaining)
                return False
            if remaining <= 0:
                return False


class BedrockStandin:
    """The stand-in server: start/stop, settings (mutable between requests), faults and records."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        pace_seconds: float = DEFAULT_PACE_SECONDS,
        answer_tokens: int = DEFAULT_ANSWER_TOKENS,
        first_token_delay_seconds: float = 0.0,
        fault: Fault | None = None,
        model_ids: frozenset[str] | None = None,
        max_records: int | None = None,
        keep_request_bodies: bool = True,
    ) -> None:
        """``max_records`` bounds the retained :class:`StandinRecord` s (oldest dropped; None keeps all, for
        tests); ``keep_request_bodies=False`` leaves ``StandinRecord.request`` empty so a long-running stand-in
        holds no prompt text."""
        if pace_seconds < 0 or first_token_delay_seconds < 0:
            raise ValueError("pace_seconds and first_token_delay_seconds must be >= 0")
        if answer_tokens < 1:
            raise ValueError("answer_tokens must be >= 1")
        if max_records is not None and max_records < 1:
            raise ValueError("max_records must be >= 1 (or None for no limit)")
        self.host = host
        self.requested_port = port
        self.pace_seconds = pace_seconds
        self.answer_tokens = answer_tokens
        self.first_token_delay_seconds = first_token_delay_seconds
        self.fault = fault
        self.model_ids = model_ids
        self.max_records = max_records
        self.keep_request_bodies = keep_request_bodies
        self._plans: deque[RequestPlan] = deque()
        self._records: deque[StandinRecord] = deque(maxlen=max_records)
        self._requests_seen = 0
        self._requests_done = 0
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server: _StandinHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> BedrockStandin:
        server = _StandinHTTPServer((self.host, self.requested_port), _StandinHandler)
        server.standin = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="bedrock-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> BedrockStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("stand-in not started")
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # per-request control
    def push(self, plan: RequestPlan) -> None:
        """Queue overrides for the next request (first in, first used)."""
        with self._lock:
            self._plans.append(plan)

    def push_fault(self, fault: Fault) -> None:
        self.push(RequestPlan(fault=fault))

    def clear_plans(self) -> None:
        with self._lock:
            self._plans.clear()

    def _take_plan(self) -> RequestPlan:
        with self._lock:
            return self._plans.popleft() if self._plans else RequestPlan()

    # records
    def _new_record(self, model_id: str, authorization: str | None) -> StandinRecord:
        access_key = None
        if authorization and authorization.startswith("AWS4-HMAC-SHA256 "):
            found = re.search(r"Credential=([^/,\s]+)/", authorization)
            access_key = found.group(1) if found else None
        with self._lock:
            record = StandinRecord(self._requests_seen, model_id, time.monotonic(), access_key)
            self._requests_seen += 1
            self._records.append(record)
            return record

    def _record_done(self) -> None:
        with self._lock:
            self._requests_done += 1
            self._lock.notify_all()

    def records_document(self) -> dict[str, Any]:
        """Requests ended so far and the retained records, as JSON-ready data (for ``GET RECORDS_PATH``)."""
        names = [item.name for item in fields(StandinRecord) if item.name != "done"]
        with self._lock:
            records = [
                {name: list(value) if isinstance(value := getattr(record, name), list) else value for name in names}
                for record in self._records
            ]
            return {"requests_done": self._requests_done, "records": records}

    def records(self) -> list[StandinRecord]:
        """The retained records, oldest first (all of them unless ``max_records`` is set)."""
        with self._lock:
            return list(self._records)

    def wait_for_done(self, count: int, timeout: float = 10.0) -> list[StandinRecord]:
        """Block until at least ``count`` requests have ended; returns the retained records."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._requests_done < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"stand-in saw {self._requests_seen} requests, wanted {count} finished")
                self._lock.wait(remaining)
            return list(self._records)
