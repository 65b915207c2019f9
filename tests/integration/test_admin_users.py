from tests.helpers import API, bearer, login, make_user, token_for


def test_admin_user_crud(client, container):
    token, admin = token_for(client, container, "admin")
    h = bearer(token)
    resp = client.post(f"{API}/admin/users", json={"email": "New@Example.com", "role": "linguist", "name": "N",
                                                   "password": "a long enough password"}, headers=h)
    assert resp.status_code == 201, resp.json
    uid = resp.json["id"]
    assert resp.json["email"] == "new@example.com" and "password_hash" not in resp.json
    assert client.post(f"{API}/admin/users", json={"email": "new@example.com", "role": "linguist"}, headers=h).status_code == 409
    assert client.post(f"{API}/admin/users", json={"email": "x@example.com", "role": "wizard"}, headers=h).status_code == 422
    short = client.post(f"{API}/admin/users", json={"email": "y@example.com", "role": "client", "password": "short"}, headers=h)
    assert short.status_code == 422 and "password" in short.json["detail"]
    listed = client.get(f"{API}/admin/users?role=linguist", headers=h).json
    assert [u["id"] for u in listed["items"]] == [uid] and listed["total"] == 1
    assert client.get(f"{API}/admin/users?size=500", headers=h).status_code == 422
    assert client.get(f"{API}/admin/users/{uid}", headers=h).json["role"] == "linguist"
    assert client.patch(f"{API}/admin/users/{uid}", json={"role": "reviewer"}, headers=h).json["role"] == "reviewer"
    assert client.delete(f"{API}/admin/users/{uid}", headers=h).status_code == 204
    assert client.get(f"{API}/admin/users/{uid}", headers=h).status_code == 404
    assert login(client, "new@example.com", "a long enough password").status_code == 401


def test_non_admin_is_forbidden(client, container):
    token, _ = token_for(client, container, "production")
    assert client.get(f"{API}/admin/users", headers=bearer(token)).status_code == 403


def test_password_set_revokes_sessions_and_reset_mails(client, container):
    token, _ = token_for(client, container, "admin")
    user = make_user(container, "client")
    h = bearer(token)
    resp = client.post(f"{API}/admin/users/{user['id']}/password/reset", json={"new_password": "brand new password 1"}, headers=h)
    assert resp.status_code == 200
    assert login(client, user["email"], "brand new password 1").status_code == 200
    assert client.post(f"{API}/admin/users/{user['id']}/reset-password", headers=h).status_code == 202
    mails = list((container.settings.data_dir / "outbox").glob("*.eml"))
    assert len(mails) == 1 and "reset-password#token=" in mails[0].read_text() and user["email"] in mails[0].read_text()


def test_audit_logs(client, container):
    token, _ = token_for(client, container, "admin")
    make_user(container, "client")
    entries = client.get(f"{API}/admin/audit-logs", headers=bearer(token)).json["items"]
    assert any(e["action"] == "user.create" for e in entries)
    sec = client.get(f"{API}/admin/audit-logs/security", headers=bearer(token)).json["items"]
    assert all(e["security"] for e in sec) and any(e["action"] == "auth.login" for e in sec)


def test_audit_cleanup_purges_only_old_entries(client, container):
    import datetime as dt

    token, _ = token_for(client, container, "admin")
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400)
    container.store.set_many((f"audit_logs/old-{i}", {"action": "x.old", "at": old, "security": False}) for i in range(3))
    resp = client.delete(f"{API}/admin/audit-logs/cleanup?older_than_days=365", headers=bearer(token))
    assert resp.status_code == 200 and resp.json["deleted"] == 3
    remaining = {e["action"] for e in container.store.find("audit_logs")}
    assert "x.old" not in remaining and "auth.login" in remaining and "audit.cleanup" in remaining
