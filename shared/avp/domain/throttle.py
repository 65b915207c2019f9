"""Counting attempts (failed sign-ins, public lookups) in Firestore so every instance shares the count.

Each attempt is one server-side increment of a per-window counter whose result tells the caller
where it stands. There is no read-modify-write transaction, so a burst of parallel attempts can
neither abort (a 500) nor lose a count: 50 concurrent attempts end with the counter at 50.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from avp.auth.tokens import secret_hash
from avp.domain.aggregates import RateCount
from avp.domain.ports import Database
from avp.domain.records import now


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
