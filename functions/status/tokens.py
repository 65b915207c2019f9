"""Listener tokens: a Firebase custom token in the cloud; against the emulator, the unsigned mock
token the Firebase JS SDK makes for `connectFirestoreEmulator(..., {mockUserToken})` (the emulator
reads its claims without checking a signature, which is how its security rules see a user)."""
from __future__ import annotations

import base64
import functools
import json
import time
from typing import Any

TOKEN_TTL = 3600  # Firebase custom tokens live at most an hour


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def emulator_token(project_id: str, uid: str, claims: dict[str, Any]) -> str:
    """An `alg: none` ID token with `claims` for the Firestore emulator."""
    now = int(time.time())
    payload = {"iss": f"https://securetoken.google.com/{project_id}", "aud": project_id, "iat": now, "exp": now + TOKEN_TTL,
               "auth_time": now, "sub": uid, "user_id": uid,
               "firebase": {"sign_in_provider": "custom", "identities": {}}, **claims}
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."


@functools.cache
def _firebase_app(project_id: str):
    import firebase_admin

    return firebase_admin.initialize_app(options={"projectId": project_id}, name=f"avp-status-{project_id}")


def custom_token(project_id: str, uid: str, claims: dict[str, Any]) -> str:
    """A Firebase custom token signed by the function's service account (IAM signBlob in the cloud)."""
    from firebase_admin import auth

    return auth.create_custom_token(uid, claims, app=_firebase_app(project_id)).decode()
