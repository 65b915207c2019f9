"""Counting attempts (failed sign-ins, public lookups, voice previews) in Firestore so every instance
shares the count.

`hit` is one server-side increment of a per-window counter whose result tells the caller where it
stands. There is no read-modify-write transaction, so a burst of parallel attempts can neither
abort (a 500) nor lose a count: 50 concurrent attempts end with the counter at 50. `take` keeps the
times of the last window's attempts instead (a sliding window, read and written in one unit of work)
where a burst across a window boundary must not pass twice the limit.
"""
from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass

from avp.auth.tokens import secret_hash
from avp.domain.aggregates import RateCount, RecentAttempts
from avp.domain.ports import Database, UnitOfWork
from avp.domain.records import now
from avp.errors import TooManyRequests


@dataclass(frozen=True)
class Hit:
    """One counted attempt: the count in its window including this one, and the window's id."""

    count: int
    slot: int
    seconds_left: int


def hit(store: Database, key: str, window: int) -> Hit:
    """Count one attempt for `key` in the current fixed window of `window` seconds."""
    t = time.time()
    slot = int(t // window)
    # The counter means nothing once its window is over: Firestore's TTL on expires_at clears it.
    count = store.of(RateCount).increment(f"{secret_hash(key)}_{slot}", "count",
                                          also={"expires_at": now() + dt.timedelta(seconds=2 * window)})
    return Hit(count, slot, int(window - t % window) + 1)


def forget(store: Database, key: str, window: int) -> None:
    """Start `key`'s count of the current window again (a successful sign-in clears its failures)."""
    store.of(RateCount).delete(f"{secret_hash(key)}_{int(time.time() // window)}")


def take(store: Database, key: str, limit: int, window: float, what: str) -> None:
    """Count one attempt for `key`, or 429 (with Retry-After) when `limit` were made in the last
    `window` seconds; `what` names the attempts in the refusal ("previews")."""
    record_id = secret_hash(key)

    def count(uow: UnitOfWork) -> None:
        current = time.time()
        found = uow.of(RecentAttempts).lookup(record_id)
        hits = [t for t in (found.hits if found else []) if t > current - window]
        if len(hits) >= limit:
            wait = math.ceil(min(hits) + window - current)
            raise TooManyRequests(f"at most {limit} {what} in {window:g} s; try again in {wait} s", retry_after=wait)
        uow.of(RecentAttempts).put(RecentAttempts(id=record_id, hits=sorted(hits + [current])[-limit:],
                                                  expires_at=now() + dt.timedelta(seconds=window)))

    store.atomically(count)
