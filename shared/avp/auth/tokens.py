"""Access tokens (JWT, HS256 pinned) and opaque refresh/invitation/share secrets (stored as hashes)."""
from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import jwt

from avp.errors import Unauthorized

if TYPE_CHECKING:
    from avp.domain.aggregates import User

ALGORITHM = "HS256"
ISSUER = "avp"
ROLES = ("client", "linguist", "reviewer", "production", "project_manager", "admin")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    user_id: str
    role: str
    org_ids: tuple[str, ...] = field(default_factory=tuple)
    jti: str = ""
    email: str = ""
    epoch: int = 0  # the user's session epoch when the token was issued; a later epoch revokes it

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def issue_access_token(key: str, user: User, org_ids: list[str], ttl: int) -> tuple[str, int]:
    """A signed access token for `user` (their role, organizations, email and current session epoch)."""
    now = int(time.time())
    claims = {"sub": user.id, "role": user.role, "org_ids": sorted(org_ids), "email": user.email,
              "sev": int(user.session_epoch or 0), "jti": uuid.uuid4().hex, "iat": now, "nbf": now,
              "exp": now + ttl, "iss": ISSUER}
    return jwt.encode(claims, key, algorithm=ALGORITHM), ttl


def decode_access_token(key: str, token: str) -> Principal:
    """Verify signature, algorithm (only HS256: `none` and others are refused), expiry and issuer."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise Unauthorized("invalid token")
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["sub", "role", "exp", "jti", "iat"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("invalid token") from exc
    if claims.get("role") not in ROLES:
        raise Unauthorized("invalid token")
    epoch = claims.get("sev", 0)
    if not isinstance(epoch, int):
        raise Unauthorized("invalid token")
    return Principal(claims["sub"], claims["role"], tuple(claims.get("org_ids") or ()), claims["jti"], claims.get("email", ""),
                     epoch)


def new_secret() -> str:
    """A random token for people to hold: 256 bits, URL-safe."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """How secrets are stored: SHA-256 (they are high-entropy, so no salt or stretching is needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()
