"""Sessions that end when they should: every authenticated request checks its user's current state.

An access token names a user and the user's *session epoch* when it was issued. Logging out,
changing the password or role, disabling and deleting bump the epoch, so every token issued
before answers 401 on its next use; the role and organizations a request acts with are read from
the user record, never trusted from the token.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from avp.auth.tokens import Principal
from avp.domain.aggregates import User
from avp.domain.ports import Database
from avp.domain.records import Increment
from avp.errors import Unauthorized

# Merged into a user update (in or out of a transaction) to end every access token issued so far;
# call `forget` once the write is committed.
REVOKED = {"session_epoch": Increment(1)}


class _RecentStates:
    """What this instance read lately about users' security state, kept a few seconds at most so a
    burst of requests costs one read; a revocation made here forgets the entry at once (other
    instances notice within the cache's lifetime)."""

    def __init__(self) -> None:
        self._items: dict[tuple[int, str], tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str], max_age: float) -> tuple[bool, dict[str, Any] | None]:
        with self._lock:
            item = self._items.get(key)
        if item is None or time.monotonic() - item[0] > max_age:
            return False, None
        return True, item[1]

    def put(self, key: tuple[int, str], state: dict[str, Any] | None) -> None:
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key] = (time.monotonic(), state)

    def forget(self, key: tuple[int, str]) -> None:
        with self._lock:
            self._items.pop(key, None)


_recent = _RecentStates()


def _state_key(store: Database, user_id: str) -> tuple[int, str]:
    return (id(store), user_id)  # one store per database in a process


def current_principal(store: Database, token: Principal, cache_seconds: float) -> Principal:
    """The caller as they are now. 401 when the account is gone or disabled, or when the token was
    issued before the user's sessions were last revoked (logout, password change, role change,
    disabling); the role and organizations come from the user record, never from the token."""
    key = _state_key(store, token.user_id)
    found, state = _recent.get(key, cache_seconds)
    if not found:
        user = store.of(User).lookup(token.user_id)
        state = None if user is None or not user.active else {
            "role": user.role, "org_ids": tuple(user.org_ids), "email": user.email, "epoch": int(user.session_epoch or 0)}
        _recent.put(key, state)
    if state is None:
        raise Unauthorized("account disabled or deleted", headers={"WWW-Authenticate": "Bearer"})
    if token.epoch < state["epoch"]:
        raise Unauthorized("session revoked; sign in again", headers={"WWW-Authenticate": "Bearer"})
    return Principal(token.user_id, state["role"], state["org_ids"], token.jti, state["email"], token.epoch)


def revoke(store: Database, user_id: str) -> None:
    """End every access token of `user_id` now (their next request answers 401). Refresh tokens are
    revoked separately: logging out of one device lets the others refresh into new tokens."""
    store.of(User).update(user_id, REVOKED)
    forget(store, user_id)


def forget(store: Database, user_id: str) -> None:
    """Drop this instance's cached state of `user_id` (call after changing it)."""
    _recent.forget(_state_key(store, user_id))
