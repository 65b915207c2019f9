"""The accounts' documents, as the real code paths write them through HTTP, map onto their typed
records with nothing left over: a field a writer adds that the record does not name would ride in
`extra`, unseen by every reader (the drift issue 10 is about)."""
from __future__ import annotations

from avp.domain import users
from avp.domain.aggregates import EmailClaim, Invitation, LoginLock, PasswordReset, RateCount, RefreshToken, User
from tests.helpers import API, PASSWORD, bearer, login, token_for

KINDS = (User, EmailClaim, Invitation, RefreshToken, PasswordReset, RateCount, LoginLock)


def _refresh(client, cookie: str):
    client.set_cookie("refresh_token", cookie, domain="localhost", path="/api/v1/auth")
    return client.post(f"{API}/auth/refresh", base_url="https://localhost")


def test_every_account_document_the_api_writes_is_exactly_its_record(client, container):
    admin, _ = token_for(client, container, "admin")
    h = bearer(admin)
    made = client.post(f"{API}/admin/users", json={"email": "Rita@Example.com", "role": "reviewer", "display_name": "Rita",
                                                   "password": PASSWORD}, headers=h)
    assert made.status_code == 201, made.json
    uid = made.json["id"]
    assert client.post(f"{API}/admin/users", json={"email": "welcome@example.com", "role": "client"},
                       headers=h).status_code == 201   # no password: a set-your-password link
    assert client.post(f"{API}/admin/users/{uid}/reset-password", headers=h).status_code == 202
    assert client.patch(f"{API}/admin/users/{uid}", json={"role": "linguist"}, headers=h).status_code == 200
    signed_in = login(client, "rita@example.com")
    assert signed_in.status_code == 200
    cookie = signed_in.headers["Set-Cookie"].split("refresh_token=", 1)[1].split(";", 1)[0]
    assert _refresh(client, cookie).status_code == 200
    codes = [login(client, "rita@example.com", "not the password at all", ip="10.9.9.9").status_code for _ in range(10)]
    assert codes[-1] == 429, "the lock was written"
    org = client.post(f"{API}/organizations", json={"name": "Records Studio"}, headers=h)
    assert org.status_code == 201, org.json
    invited = client.post(f"{API}/organizations/{org.json['id']}/members",
                          json={"email": "guest@example.com", "role": "reviewer", "invite": True}, headers=h)
    assert invited.status_code == 202, invited.json
    assert client.delete(f"{API}/admin/users/{uid}", headers=h).status_code == 204

    store = container.store
    for kind in KINDS:
        records = store.of(kind).where()
        assert records, f"nothing of {kind.__name__} was written"
        leftovers = {r.id: r.extra for r in records if r.extra}
        assert not leftovers, f"{kind.__name__} documents hold fields the record does not name: {leftovers}"
    rita = store.of(User).get(uid)
    assert rita.deleted and rita.role == "linguist" and rita.session_epoch == 2 and rita.last_login_at
    assert store.of(EmailClaim).lookup(users.email_claim_id("rita@example.com")) is None, "deleting frees the email"
