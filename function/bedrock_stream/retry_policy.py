"""botocore's ``standard`` retry mode for ConverseStream, before the stream starts (pure, no clock, no sleep).

Mirrors ``botocore.retries.standard`` (tested against it): 3 attempts in all; retry transient errors (codes
``RequestTimeout``/``RequestTimeoutException``/``PriorRequestNotComplete``, HTTP 500/502/503/504, any transport
failure), throttling codes, a 429 whose code the model does not know, and errors the model marks retryable
(``ModelNotReadyException``, not throttling). Delay ``rand() * min(base * 2**(attempt-1), 20)`` with base 1 s
for throttling and 50 ms otherwise, raised to ``x-amz-retry-after`` (ms, at most 5 s more). A retry quota of
500 (5 per throttling retry, 14 per other retry; a success gives back 1, or what its retries took) stops
retry storms. Once the stream has started nothing is retried (botocore does not either).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

TOTAL_ATTEMPTS = 3
MAX_BACKOFF_SECONDS = 20.0
THROTTLING_BASE_SECONDS = 1.0
TRANSIENT_BASE_SECONDS = 0.05
RETRY_AFTER_MAX_ADDITIONAL_SECONDS = 5.0

TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"})
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
    "PriorRequestNotComplete", "EC2ThrottledException",
})
# ConverseStream's modeled errors, and the retryable trait of those that have one (bedrock-runtime service model).
MODELED_ERRORS = frozenset({
    "AccessDeniedException", "ThrottlingException", "ResourceNotFoundException", "ModelTimeoutException",
    "InternalServerException", "ServiceUnavailableException", "ValidationException", "ModelNotReadyException",
    "ModelErrorException",
})
MODELED_RETRYABLE: dict[str, bool] = {"ModelNotReadyException": False}  # code → is throttling


@dataclass(frozen=True)
class Outcome:
    """One failed attempt: an HTTP error response (status, code) or a transport failure (status None)."""

    status: int | None
    code: str | None
    retry_after_ms: str | None = None


def is_throttling(outcome: Outcome) -> bool:
    code = outcome.code
    if code in THROTTLING_CODES:
        return True
    if code in MODELED_RETRYABLE:
        return MODELED_RETRYABLE[code]
    return outcome.status == 429 and code not in MODELED_ERRORS


def is_retryable(outcome: Outcome) -> bool:
    """Whether botocore's standard conditions retry this outcome (the attempt count aside)."""
    if outcome.status is None:
        return True  # connection refused/closed/reset, connect or read timeout: transient
    return (
        outcome.code in TRANSIENT_CODES
        or outcome.status in TRANSIENT_STATUSES
        or outcome.code in THROTTLING_CODES
        or (outcome.status == 429 and outcome.code not in MODELED_ERRORS)
        or outcome.code in MODELED_RETRYABLE
    )


def backoff_seconds(outcome: Outcome, attempt: int, rand: float) -> float:
    """The delay before attempt ``attempt + 1``, ``attempt`` counting from 1; ``rand`` in [0, 1)."""
    base = THROTTLING_BASE_SECONDS if is_throttling(outcome) else TRANSIENT_BASE_SECONDS
    delay: float = rand * min(base * 2.0 ** (attempt - 1), MAX_BACKOFF_SECONDS)
    if outcome.retry_after_ms is not None:
        try:
            retry_after = int(outcome.retry_after_ms) / 1000.0
        except (ValueError, OverflowError):
            return delay
        if retry_after >= 0:
            return max(delay, min(retry_after, RETRY_AFTER_MAX_ADDITIONAL_SECONDS + delay))
    return delay


class RetryQuota:
    """botocore's retry quota (``botocore.retries.quota`` with ``RetryQuotaChecker``'s costs)."""

    CAPACITY = 500
    RETRY_COST = 14
    THROTTLING_RETRY_COST = 5
    NO_RETRY_INCREMENT = 1

    def __init__(self) -> None:
        self.available = self.CAPACITY
        self._lock = threading.Lock()

    def acquire(self, outcome: Outcome) -> int:
        """Take the cost of retrying ``outcome``; 0 when the quota is exhausted (do not retry)."""
        cost = self.THROTTLING_RETRY_COST if is_throttling(outcome) else self.RETRY_COST
        with self._lock:
            if cost > self.available:
                return 0
            self.available -= cost
            return cost

    def release(self, last_cost: int | None) -> None:
        """After a successful response: give back 1, or the cost of the last retry that led to it."""
        with self._lock:
            self.available = min(self.CAPACITY, self.available + (last_cost or self.NO_RETRY_INCREMENT))
