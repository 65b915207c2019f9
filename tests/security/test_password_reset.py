"""Password reset that works: the mailed link opens a page that sets the password once, before it
expires, rate limited, ending every session; the same for accounts created without a password."""
import datetime as dt

from avp.auth.tokens import secret_hash
from tests.helpers import API, PASSWORD, bearer, login, mailed_link, make_user, token_for

RESET = f"{API}/auth/password/reset"
NEW = "a brand new passphrase 42"


def test_a_reset_link_sets_the_password_once_and_ends_every_session(client, container):
    admin, _ = token_for(client, container, "admin")
    user = make_user(container, "linguist")
    signed_in = login(client, user["email"])
    old_token = signed_in.json["access_token"]
    assert client.post(f"{API}/admin/users/{user['id']}/reset-password", headers=bearer(admin)).status_code == 202
    token = mailed_link(container, user["email"], "reset-password#token=")

    page = client.get("/reset-password")  # where the mail points; the token stays in the fragment
    assert page.status_code == 200 and "/api/v1/auth/password/reset" in page.get_data(as_text=True)
    weak = client.post(RESET, json={"token": token, "new_password": "short"})
    assert weak.status_code == 422 and "password" in str(weak.json["detail"])
    assert client.post(RESET, json={"token": token, "new_password": NEW}).status_code == 204  # the weak try spent nothing
    assert client.get(f"{API}/organizations", headers=bearer(old_token)).status_code == 401
    assert login(client, user["email"], PASSWORD).status_code == 401
    assert login(client, user["email"], NEW).status_code == 200
    again = client.post(RESET, json={"token": token, "new_password": "yet another passphrase"})
    assert again.status_code == 410 and again.json["detail"]
    assert client.post(RESET, json={"token": "x" * 43, "new_password": NEW}).status_code == 404


def test_an_expired_link_is_gone(client, container):
    admin, _ = token_for(client, container, "admin")
    user = make_user(container, "client")
    client.post(f"{API}/admin/users/{user['id']}/reset-password", headers=bearer(admin))
    token = mailed_link(container, user["email"], "reset-password#token=")
    # The clock moves on past its expiry (a raw write of the time, not of a state).
    container.store.update(f"password_resets/{secret_hash(token)}", {"expires_at": dt.datetime.now(dt.timezone.utc)})
    assert client.post(RESET, json={"token": token, "new_password": NEW}).status_code == 410
    assert login(client, user["email"], PASSWORD).status_code == 200


def test_an_account_created_without_a_password_gets_a_set_your_password_link(client, container):
    admin, _ = token_for(client, container, "admin")
    made = client.post(f"{API}/admin/users", json={"email": "newcomer@example.com", "role": "reviewer"}, headers=bearer(admin))
    assert made.status_code == 201
    token = mailed_link(container, "newcomer@example.com", "reset-password#token=")
    assert client.post(RESET, json={"token": token, "new_password": NEW}).status_code == 204
    assert login(client, "newcomer@example.com", NEW).status_code == 200


def test_redeeming_is_rate_limited_per_client_address(client, container):
    codes = [client.post(RESET, json={"token": f"guess-{i:012d}", "new_password": NEW},
                         environ_base={"REMOTE_ADDR": "198.51.100.60"}).status_code for i in range(21)]
    assert codes == [404] * 20 + [429]
    assert client.post(RESET, json={"token": "guess-other-address", "new_password": NEW},
                       environ_base={"REMOTE_ADDR": "198.51.100.61"}).status_code == 404
