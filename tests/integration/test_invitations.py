import datetime as dt

import jwt
import pytest

from avp.auth.tokens import Principal, secret_hash
from avp.domain import audit, invitations, tenancy
from avp.domain.aggregates import Invitation, User
from avp.errors import Forbidden, Gone
from tests.helpers import API, PASSWORD, bearer, login, make_user

ADMIN_META = audit.AuditMeta("admin-id", "admin", "req-1", "10.0.0.9")


@pytest.fixture
def setup(container):
    """An organization with a client, its team and its PM, created through the domain."""
    store = container.store
    admin = make_user(container, "admin", name="Ada Admin")
    org = tenancy.create_organization(store, ADMIN_META, name="Studio")
    acme = tenancy.create_client(store, ADMIN_META, org_id=org["id"], name="Acme")
    team = tenancy.create_team(store, ADMIN_META, acme["id"], name="Editors", member_ids=[])
    pm = make_user(container, "project_manager", name="Pat PM")
    principal = Principal(admin["id"], "admin")
    tenancy.add_member(store, ADMIN_META, principal, org["id"], user_id=pm["id"], role="project_manager")
    tenancy.add_pm(store, ADMIN_META, acme["id"], pm["id"])
    return {"store": store, "admin": principal, "org": org, "client": acme, "team": team, "pm": Principal(pm["id"], "project_manager")}


def _invite(container, setup, email="Invitee@Example.com", role="client", by=None, team=True) -> invitations.Created:
    request = invitations.InvitationRequest(email, setup["org"]["id"], role, setup["client"]["id"],
                                            setup["team"]["id"] if team else None)
    return invitations.create(container.store, container.mailer, container.settings, by or setup["admin"], ADMIN_META, request)


def test_preview_shows_only_who_invited_whom_to_what(client, container, setup):
    created = _invite(container, setup)
    assert len(created.token) >= 22  # >= 128 bits of URL-safe base64
    stored = container.store.get(f"invitations/{created.invitation['id']}")
    assert stored["secret_hash"] == secret_hash(created.token) and created.token not in str(stored)
    resp = client.post(f"{API}/invitations/preview", json={"token": created.token})
    assert resp.status_code == 200
    body = resp.json
    assert set(body) == {"email", "org_id", "org_name", "role", "invited_by_name", "client_name", "team_name", "expires_at",
                         "existing_account"}
    assert (body["email"], body["org_name"], body["role"], body["invited_by_name"], body["client_name"], body["team_name"],
            body["existing_account"]) == ("invitee@example.com", "Studio", "client", "Ada Admin", "Acme", "Editors", False)
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert abs((expires - dt.datetime.now(dt.timezone.utc)).total_seconds() - 7 * 24 * 3600) < 60
    assert client.post(f"{API}/invitations/preview", json={"token": "x" * 43}).status_code == 404
    assert client.post(f"{API}/invitations/preview", json={"token": "short"}).status_code == 422


def test_accept_creates_account_grants_memberships_and_signs_in(client, container, setup):
    store, org, acme = setup["store"], setup["org"], setup["client"]
    created = _invite(container, setup)
    weak = client.post(f"{API}/invitations/accept", json={"token": created.token, "password": "short"})
    assert weak.status_code == 422 and "password" in weak.json["detail"]
    assert client.post(f"{API}/invitations/accept", json={"token": created.token}).status_code == 422
    resp = client.post(f"{API}/invitations/accept", json={"token": created.token, "password": PASSWORD, "display_name": "Ivy"},
                       base_url="https://localhost")
    assert resp.status_code == 200, resp.json
    assert resp.json["token_type"] == "bearer" and resp.json["user"]["email"] == "invitee@example.com"
    cookie = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("refresh_token=")][0]
    assert "HttpOnly" in cookie and "Path=/api/v1/auth" in cookie
    claims = jwt.decode(resp.json["access_token"], container.jwt_key, algorithms=["HS256"], issuer="avp")
    user = store.get(f"users/{claims['sub']}")
    assert (user["role"], user["name"], user["org_ids"], user["team_client_ids"]) == ("client", "Ivy", [org["id"]], [acme["id"]])
    assert store.get(f"clients/{acme['id']}/teams/{setup['team']['id']}")["member_ids"] == [user["id"]]
    assert store.get(f"organizations/{org['id']}/members/{user['id']}")["role"] == "client"
    # The new user sees the client through the team, and can sign in with the chosen password.
    invitee = bearer(resp.json["access_token"])
    assert client.get(f"{API}/clients/{acme['id']}", headers=invitee).status_code == 200
    assert [c["id"] for c in client.get(f"{API}/clients", headers=invitee).json["items"]] == [acme["id"]]
    assert login(client, "invitee@example.com").status_code == 200
    again = client.post(f"{API}/invitations/accept", json={"token": created.token, "password": PASSWORD})
    assert again.status_code == 410 and "already accepted" in again.json["detail"]
    assert client.post(f"{API}/invitations/preview", json={"token": created.token}).status_code == 410
    actions = [e["action"] for e in store.find("audit_logs", [])]
    assert {"invitation.create", "invitation.accept", "user.create", "member.add", "team.member.add"} <= set(actions)


def test_revoked_expired_and_superseded_invitations_are_gone(client, container, setup):
    store = setup["store"]
    first = _invite(container, setup, "again@example.com")
    second = _invite(container, setup, "again@example.com")
    superseded = client.post(f"{API}/invitations/accept", json={"token": first.token, "password": PASSWORD})
    assert superseded.status_code == 410 and "revoked" in superseded.json["detail"]
    invitations.revoke(store, ADMIN_META, second.invitation["id"])
    assert client.post(f"{API}/invitations/preview", json={"token": second.token}).status_code == 410
    late = _invite(container, setup, "late@example.com")
    # The clock moves on past its expiry (a raw write of the time, not of a state).
    store.update(f"invitations/{late.invitation['id']}", {"expires_at": dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)})
    expired = client.post(f"{API}/invitations/accept", json={"token": late.token, "password": PASSWORD})
    assert expired.status_code == 410 and "expired" in expired.json["detail"]
    assert client.post(f"{API}/invitations/accept", json={"token": "y" * 43, "password": PASSWORD}).status_code == 404
    assert store.find_one("users", [("email", "==", "late@example.com")]) is None


def test_accepting_links_an_existing_account(client, container, setup):
    store = setup["store"]
    existing = make_user(container, "reviewer", email="known@example.com")
    created = _invite(container, setup, "known@example.com", role="reviewer", team=False)
    assert client.post(f"{API}/invitations/preview", json={"token": created.token}).json["existing_account"] is True
    # Only while signed in to that account (tests/security/test_escalation.py covers the refusals).
    signed_in = login(client, existing["email"]).json["access_token"]
    resp = client.post(f"{API}/invitations/accept", json={"token": created.token}, headers=bearer(signed_in))
    assert resp.status_code == 200 and resp.json["user"]["id"] == existing["id"]
    assert store.get(f"users/{existing['id']}")["org_ids"] == [setup["org"]["id"]]


def test_pms_invite_client_users_into_their_clients_only(container, setup):
    created = _invite(container, setup, "viewer@example.com", by=setup["pm"])
    assert created.invitation["invited_by"] == setup["pm"].user_id
    with pytest.raises(Forbidden):
        _invite(container, setup, "boss@example.com", role="production", by=setup["pm"])
    other = tenancy.create_client(setup["store"], ADMIN_META, org_id=setup["org"]["id"], name="Other")
    request = invitations.InvitationRequest("x@example.com", setup["org"]["id"], "client", other["id"])
    with pytest.raises(Forbidden):
        invitations.create(container.store, container.mailer, container.settings, setup["pm"], ADMIN_META, request)


def test_pm_invites_through_the_members_route(client, container, setup):
    pm_user = container.store.get(f"users/{setup['pm'].user_id}")
    token = login(client, pm_user["email"]).json["access_token"]
    url = f"{API}/organizations/{setup['org']['id']}/members"
    body = {"email": "team.guest@example.com", "role": "client", "invite": True, "client_id": setup["client"]["id"],
            "team_id": setup["team"]["id"]}
    assert client.post(url, json=body, headers=bearer(token)).status_code == 202
    assert client.post(url, json={**body, "role": "admin"}, headers=bearer(token)).status_code == 403
    # Adding an existing user directly stays admin-only.
    assert client.post(url, json={"user_id": setup["pm"].user_id, "role": "client"}, headers=bearer(token)).status_code == 403


def test_accept_for_user_from_microsoft_sign_in(container, setup):
    store = setup["store"]
    created = _invite(container, setup, "ms.user@example.com", role="reviewer", team=False)
    invitation = store.of(Invitation).get(created.invitation["id"])
    with pytest.raises(Forbidden):
        invitations.accept_for_user(store, invitation, email="someone.else@example.com", name="X", meta=audit.SYSTEM)
    user = invitations.accept_for_user(store, invitation, email="MS.User@example.com", name="Ms User", meta=audit.SYSTEM)
    stored = store.of(User).get(user.id)
    assert stored.password_hash is None and stored.role == "reviewer" and stored.org_ids == [setup["org"]["id"]]
    assert stored.auth_provider == "microsoft" and stored.extra == {}
    assert store.of(Invitation).get(invitation.id).status == "accepted"
    with pytest.raises(Gone):
        invitations.accept_for_user(store, store.of(Invitation).get(invitation.id), email="ms.user@example.com", name="",
                                    meta=audit.SYSTEM)
