"""Retry policies: the `retry` block of a `try` step and the `http.default_retry*` built-ins."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Predicate = Callable[[Any], Any]


def _error_code_and_tags(error: Any) -> tuple[Any, list[Any]]:
    if not isinstance(error, dict):
        return None, []
    return error.get("code"), list(error.get("tags") or [])


def default_retry_predicate(error: Any) -> bool:
    """Retry 429, 502, 503, 504 and failed or timed-out connections."""
    code, tags = _error_code_and_tags(error)
    return code in (429, 502, 503, 504) or "ConnectionError" in tags or "TimeoutError" in tags


def default_retry_predicate_non_idempotent(error: Any) -> bool:
    """Retry only what cannot have reached the server twice: 429, 503, refused connections."""
    code, tags = _error_code_and_tags(error)
    return code in (429, 503) or "ConnectionFailedError" in tags


@dataclass(frozen=True)
class RetryPolicy:
    """Retry while `predicate(error)` is true, at most `max_retries` times, waiting ever longer."""

    predicate: Predicate
    max_retries: int
    initial_delay: float
    max_delay: float
    multiplier: float

    def delays(self) -> list[float]:
        """The wait before each retry, in order: exponential, capped at `max_delay`."""
        delays: list[float] = []
        delay = self.initial_delay
        for _ in range(self.max_retries):
            delays.append(min(delay, self.max_delay))
            delay *= self.multiplier
        return delays


DEFAULT_RETRY = RetryPolicy(default_retry_predicate, max_retries=5, initial_delay=1.0, max_delay=60.0, multiplier=1.25)
DEFAULT_RETRY_NON_IDEMPOTENT = RetryPolicy(
    default_retry_predicate_non_idempotent, max_retries=5, initial_delay=1.0, max_delay=60.0, multiplier=1.25
)

RETRY_BUILTINS: dict[str, Any] = {
    "http.default_retry": DEFAULT_RETRY,
    "http.default_retry_non_idempotent": DEFAULT_RETRY_NON_IDEMPOTENT,
    "http.default_retry_predicate": default_retry_predicate,
    "http.default_retry_predicate_non_idempotent": default_retry_predicate_non_idempotent,
}
"""Names a workflow can use as `retry: ${...}` or `predicate: ${...}`."""
