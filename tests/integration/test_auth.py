import time

import jwt
import pytest

from tests.helpers import API, PASSWORD, bearer, login, make_user, token_for


def _refresh_cookie(resp) -> str:
    header = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("refresh_token=")][0]
    assert "HttpOnly" in header and "Secure" in header and "SameSite=Strict" in header and "Path=/api/v1/auth" in header
    return header.split(";")[0].split("=", 1)[1]


def _refresh(client, value):
    client.set_cookie("refresh_token", value, domain="localhost", path="/api/v1/auth")
    return client.post(f"{API}/auth/refresh", base_url="https://localhost")


def test_login_returns_token_user_and_cookie(client, container):
    user = make_user(container, "reviewer")
    resp = login(client, user["email"])
    assert resp.status_code == 200
    body = resp.json
    assert body["token_type"] == "bearer" and body["user"]["email"] == user["email"] and body["user"]["role"] == "reviewer"
    assert "password_hash" not in body["user"]
    claims = jwt.decode(body["access_token"], container.jwt_key, algorithms=["HS256"], issuer="avp")
    assert claims["sub"] == user["id"] and claims["role"] == "reviewer" and claims["exp"] - claims["iat"] == 900
    assert {"jti", "org_ids"} <= claims.keys()
    _refresh_cookie(resp)


def test_unknown_user_and_wrong_password_look_the_same(client, container):
    user = make_user(container, "client")
    t0 = time.perf_counter()
    wrong = login(client, user["email"], "wrong password here")
    t1 = time.perf_counter()
    unknown = login(client, "nobody@example.com", "wrong password here")
    t2 = time.perf_counter()
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    # Both run a full argon2 verification: neither is an order of magnitude faster.
    assert (t2 - t1) > (t1 - t0) / 5 and (t1 - t0) > (t2 - t1) / 5


def test_validation_and_malformed_json(client, container):
    assert client.post(f"{API}/auth/login", json={"email": "not-an-email"}).status_code == 422
    resp = client.post(f"{API}/auth/login", data="{not json", content_type="application/json")
    assert resp.status_code == 400 and resp.json["detail"] == "malformed JSON body"
    resp = client.post(f"{API}/auth/login", json={"email": "a@b.co"})
    assert resp.status_code == 422 and "password" in resp.json["detail"]


@pytest.mark.parametrize("kind", ["tampered", "expired", "none", "wrong_key", "garbage", "missing"])
def test_bad_tokens_are_refused(client, container, kind):
    token, user = token_for(client, container, "admin")
    now = int(time.time())
    claims = {"sub": user["id"], "role": "admin", "org_ids": [], "jti": "x", "iat": now, "nbf": now, "exp": now + 600, "iss": "avp"}
    tokens = {
        "tampered": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        "expired": jwt.encode({**claims, "iat": now - 2000, "nbf": now - 2000, "exp": now - 1000}, container.jwt_key, algorithm="HS256"),
        "none": jwt.encode(claims, None, algorithm="none"),
        "wrong_key": jwt.encode(claims, "another-key-entirely-another-key", algorithm="HS256"),
        "garbage": "abc.def.ghi",
        "missing": None,
    }
    headers = bearer(tokens[kind]) if tokens[kind] else {}
    resp = client.get(f"{API}/admin/users", headers=headers)
    assert resp.status_code == 401, resp.json
    assert client.get(f"{API}/admin/users", headers=bearer(token)).status_code == 200


def test_refresh_rotates_and_reuse_revokes_family(client, container):
    user = make_user(container, "linguist")
    first = _refresh_cookie(login(client, user["email"]))
    resp = _refresh(client, first)
    assert resp.status_code == 200 and resp.json["access_token"]
    second = _refresh_cookie(resp)
    assert second != first
    # Replaying the first (already used) token revokes the whole family, including `second`.
    assert _refresh(client, first).status_code == 401
    assert _refresh(client, second).status_code == 401


def test_logout_revokes_and_clears(client, container):
    token, user = token_for(client, container, "production")
    cookie = _refresh_cookie(login(client, user["email"]))
    client.set_cookie("refresh_token", cookie, domain="localhost", path="/api/v1/auth")
    resp = client.post(f"{API}/auth/logout", headers=bearer(token), base_url="https://localhost")
    assert resp.status_code == 204 and resp.data == b""
    assert any(h.startswith("refresh_token=;") for h in resp.headers.getlist("Set-Cookie"))
    assert _refresh(client, cookie).status_code == 401


def test_disabled_user_cannot_login_or_refresh(client, container):
    admin_token, _ = token_for(client, container, "admin")
    user = make_user(container, "client")
    cookie = _refresh_cookie(login(client, user["email"]))
    assert client.patch(f"{API}/admin/users/{user['id']}", json={"is_active": False}, headers=bearer(admin_token)).status_code == 200
    assert login(client, user["email"]).status_code == 401
    assert _refresh(client, cookie).status_code == 401


def test_lockout_after_ten_failures(client, container):
    user = make_user(container, "client")
    codes = [login(client, user["email"], "wrong password 123").status_code for _ in range(10)]
    assert codes[:9] == [401] * 9 and codes[9] == 429
    locked = login(client, user["email"], PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    from avp.domain import audit

    actions = {e["action"] for e in audit.list_entries(container.store, page=1, size=50, category="security").items}
    assert {"auth.login_failed", "auth.lockout"} <= actions
