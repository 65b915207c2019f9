"""Revocation takes effect on the next request: a token outlives neither its user's role, nor their
account, nor a logout or password change; and the last active admin cannot remove themselves."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from avp.domain import sessions
from avp.domain.aggregates import User
from tests.helpers import API, bearer, login, make_user, token_for

ADMIN_USERS = f"{API}/admin/users"


def _hold_cookie_of(client, resp) -> None:
    """Make `client` the device that signed in with `resp` (its refresh cookie)."""
    cookie = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("refresh_token=")][0].split(";")[0].split("=", 1)[1]
    client.set_cookie("refresh_token", cookie, domain="localhost", path="/api/v1/auth")


@pytest.mark.parametrize("revocation", ["demote", "disable", "delete", "password"])
def test_an_admin_token_dies_with_the_admin_role(client, container, revocation):
    root, _ = token_for(client, container, "admin")
    victim_token, victim = token_for(client, container, "admin")
    assert client.get(ADMIN_USERS, headers=bearer(victim_token)).status_code == 200
    path = f"{ADMIN_USERS}/{victim['id']}"
    changed = {
        "demote": lambda: client.patch(path, json={"role": "production"}, headers=bearer(root)),
        "disable": lambda: client.patch(path, json={"is_active": False}, headers=bearer(root)),
        "delete": lambda: client.delete(path, headers=bearer(root)),
        "password": lambda: client.post(f"{path}/password/reset", json={"new_password": "another long password"},
                                        headers=bearer(root)),
    }[revocation]()
    assert changed.status_code in (200, 204), changed.json
    # The old token can do nothing any more: not create an admin, not delete one, not even read.
    made = client.post(ADMIN_USERS, json={"email": f"evil-{revocation}@example.com", "role": "admin"}, headers=bearer(victim_token))
    assert made.status_code == 401 and made.json["detail"]
    assert client.delete(f"{ADMIN_USERS}/{make_user(container, 'admin')['id']}", headers=bearer(victim_token)).status_code == 401
    assert client.get(f"{API}/organizations", headers=bearer(victim_token)).status_code == 401


def test_demoted_admin_signing_in_again_acts_with_the_new_role(client, container):
    root, _ = token_for(client, container, "admin")
    _, victim = token_for(client, container, "admin")
    assert client.patch(f"{ADMIN_USERS}/{victim['id']}", json={"role": "production"}, headers=bearer(root)).status_code == 200
    fresh = login(client, victim["email"]).json["access_token"]
    assert client.get(ADMIN_USERS, headers=bearer(fresh)).status_code == 403


def test_logout_ends_every_access_token_but_other_devices_refresh(client, container):
    user = make_user(container, "production")
    laptop, phone = login(client, user["email"]), login(client, user["email"])
    _hold_cookie_of(client, laptop)
    out = client.post(f"{API}/auth/logout", headers=bearer(laptop.json["access_token"]), base_url="https://localhost")
    assert out.status_code in (200, 204)
    assert client.get(f"{API}/organizations", headers=bearer(laptop.json["access_token"])).status_code == 401
    assert client.get(f"{API}/organizations", headers=bearer(phone.json["access_token"])).status_code == 401
    assert client.post(f"{API}/auth/refresh", base_url="https://localhost").status_code == 401
    _hold_cookie_of(client, phone)
    renewed = client.post(f"{API}/auth/refresh", base_url="https://localhost")  # the phone's sign-in was not logged out
    assert renewed.status_code == 200
    assert client.get(f"{API}/organizations", headers=bearer(renewed.json["access_token"])).status_code == 200


def test_a_revocation_made_elsewhere_applies_within_the_cache_lifetime(client, container):
    """Another instance bumps the epoch (this instance's cache is not told): refused within seconds."""
    import time

    token, user = token_for(client, container, "client")
    assert client.get(f"{API}/organizations", headers=bearer(token)).status_code == 200
    # sessions.revoke's write as another instance makes it: without this instance's cache `forget`.
    container.store.of(User).update(user["id"], sessions.REVOKED)
    time.sleep(container.settings.auth_cache_seconds + 0.1)
    assert client.get(f"{API}/organizations", headers=bearer(token)).status_code == 401


def test_the_last_active_admin_cannot_demote_disable_or_delete_themselves(client, container):
    token, admin = token_for(client, container, "admin")
    h, me = bearer(token), f"{ADMIN_USERS}/{admin['id']}"
    # A disabled admin does not count as another active one.
    other = make_user(container, "admin", disabled=True)
    for change in ({"role": "client"}, {"is_active": False}):
        resp = client.patch(me, json=change, headers=h)
        assert resp.status_code == 409 and "last active administrator" in resp.json["detail"]
    assert client.delete(me, headers=h).status_code == 409
    assert client.get(me, headers=h).json["role"] == "admin"
    # With another active admin, the change goes through (and ends this token).
    assert client.patch(f"{ADMIN_USERS}/{other['id']}", json={"is_active": True}, headers=h).status_code == 200
    assert client.patch(me, json={"role": "client"}, headers=h).status_code == 200
    assert client.get(me, headers=h).status_code == 401


def test_two_admins_demoting_each_other_at_once_leave_one_admin(client, container):
    from werkzeug.test import Client

    (ta, a), (tb, b) = token_for(client, container, "admin"), token_for(client, container, "admin")
    gateway = client.application

    def demote(token, target):
        return Client(gateway).patch(f"{ADMIN_USERS}/{target['id']}", json={"role": "client"}, headers=bearer(token)).status_code

    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(lambda args: demote(*args), [(ta, b), (tb, a)]))
    # Both may lose (the first demotion revokes the other admin's token: 401) but never both win.
    assert codes in ([200, 401], [200, 409]), codes
    admins = container.store.find("users", [("role", "==", "admin"), ("disabled", "==", False), ("deleted", "==", False)])
    assert len(admins) == 1
