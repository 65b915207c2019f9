"""Retrying cloud recognizer calls: transient failures (5xx, 429, timeouts) are retried with
exponential backoff, permanent ones (other 4xx) fail at once."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from avp.providers.asr.base import AsrError

T = TypeVar("T")

_TRANSIENT_CLIENT_STATUSES = {408, 429}


def error_for_status(status: int | None, message: str) -> AsrError:
    """An `AsrError` for an HTTP-style status: 4xx is permanent except timeouts and rate
    limits; 5xx and unknown statuses (connection failures) are worth retrying."""
    permanent = status is not None and 400 <= status < 500 and status not in _TRANSIENT_CLIENT_STATUSES
    return AsrError(f"{message} (status {status})" if status else message, permanent=permanent)


def with_retries(call: Callable[[], T], *, attempts: int = 3, backoff: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `call`, retrying on transient `AsrError`s up to `attempts` times in all, waiting
    `backoff`, 2×`backoff`, 4×`backoff`... between tries; the last error propagates."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except AsrError as exc:
            if exc.permanent or attempt == attempts:
                raise
            sleep(backoff * 2 ** (attempt - 1))
    raise ValueError("attempts must be at least 1")
