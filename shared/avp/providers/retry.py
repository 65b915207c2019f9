"""Retrying cloud provider calls: transient failures (5xx, 429, timeouts) are retried with
exponential backoff, permanent ones (other 4xx) fail at once. One root error for every
provider kind, so each adapter raises its own kind and this helper retries them all."""
from __future__ import annotations

import importlib
import re
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
E = TypeVar("E", bound="ProviderError")


class ProviderError(RuntimeError):
    """A provider call failed; `permanent` says whether a retry can help."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent

def _http_library_errors(name: str) -> tuple[type[Exception], ...]:
    errors = []
    for library in ("httpx", "httpx2"):
        try:
            errors.append(getattr(importlib.import_module(library), name))
        except ImportError:
            continue
    return tuple(errors)


# What google-genai's HTTP layer raises when no answer came (connection refused, reset, timed out):
# depending on its version and what is installed, httpx's classes or its successor httpx2's, which
# share no base class. Every Gemini adapter catches these (not `httpx.HTTPError` alone, which an
# unreachable service on httpx2 slips past as a 500).
HTTP_ERRORS: tuple[type[Exception], ...] = _http_library_errors("HTTPError")
HTTP_TIMEOUTS: tuple[type[Exception], ...] = _http_library_errors("TimeoutException")
HTTP_TRANSPORT_ERRORS: tuple[type[Exception], ...] = _http_library_errors("TransportError")

_TRANSIENT_CLIENT_STATUSES = {408, 429}


# A 429 naming a per-day quota (Google's quota ids: `GenerateRequestsPerDayPerProjectPerModel`,
# "requests per day") will not pass on a retry minutes later: it resets at midnight Pacific time.
_DAILY_QUOTA = re.compile(r"per ?day", re.IGNORECASE)
DAILY_QUOTA_ADVICE = "the provider's daily quota is used up; it resets at midnight Pacific time: retry the job then"


def error_for_status(status: int | None, message: str, kind: type[E], details: object = None) -> E:
    """A `kind` error for an HTTP-style status: 4xx is permanent except timeouts and rate
    limits; 5xx and unknown statuses (connection failures) are worth retrying. A rate limit
    whose `details` (the provider's error body) name a daily quota is permanent too, and says so."""
    permanent = status is not None and 400 <= status < 500 and status not in _TRANSIENT_CLIENT_STATUSES
    text = f"{message} (status {status})" if status else message
    if status == 429 and _DAILY_QUOTA.search(f"{message} {details or ''}"):
        return kind(f"{text}: {DAILY_QUOTA_ADVICE}", permanent=True)
    return kind(text, permanent=permanent)


def with_retries(call: Callable[[], T], *, attempts: int = 3, backoff: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `call`, retrying on transient `ProviderError`s up to `attempts` times in all, waiting
    `backoff`, 2×`backoff`, 4×`backoff`... between tries; the last error propagates."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except ProviderError as exc:
            if exc.permanent or attempt == attempts:
                raise
            sleep(backoff * 2 ** (attempt - 1))
    raise ValueError("attempts must be at least 1")
