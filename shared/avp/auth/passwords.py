"""argon2id password hashing, with a dummy verification for unknown users so that a wrong
email and a wrong password take the same time."""
from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from avp.errors import Unprocessable

MIN_LENGTH = 12
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not-a-real-password-but-same-cost")


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; runs a full argon2 verification even when there is no hash."""
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def check_policy(password: str, email: str | None = None) -> None:
    """The password policy: at least 12 characters, not the email (nor its local part)."""
    if len(password) < MIN_LENGTH:
        raise Unprocessable({"password": [f"must be at least {MIN_LENGTH} characters"]})
    if email:
        lowered = password.lower()
        if lowered == email.lower() or lowered == email.split("@")[0].lower():
            raise Unprocessable({"password": ["must not be your email address"]})
