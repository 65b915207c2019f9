"""Helpers for tests that talk to the API through the gateway."""
from __future__ import annotations

import itertools

from avp.domain import audit, users

PASSWORD = "correct horse battery staple"
_counter = itertools.count()

API = "/api/v1"


def make_user(container, role: str = "admin", email: str | None = None, password: str = PASSWORD, **kw) -> dict:
    """An account made by the real code path, as its stored fields and id (what the tests index)."""
    email = email or f"{role}{next(_counter)}@example.com"
    user = users.create_user(container.store, audit.SYSTEM, email=email, role=role, password=password, **kw)
    return {**user.to_doc(), "id": user.id}


def login(client, email: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    return client.post(f"{API}/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip}, base_url="https://localhost")


def token_for(client, container, role: str = "admin", **kw) -> tuple[str, dict]:
    user = make_user(container, role, **kw)
    resp = login(client, user["email"])
    assert resp.status_code == 200, resp.json
    return resp.json["access_token"], user


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def mailed_link(container, to: str, marker: str) -> str:
    """The secret after `marker` in the newest mail of the local outbox sent to `to`."""
    import email
    from email import policy

    mails = sorted((container.settings.data_dir / "outbox").glob("*.eml"))
    for path in reversed(mails):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(("plain",)).get_content()
        if message["To"] == to and marker in body:
            return body.split(marker, 1)[1].split()[0]
    raise AssertionError(f"no mail to {to} holds {marker}")


def assert_exact_records(repository, *filters) -> None:
    """Every stored document `repository` reads (matching `filters`) is exactly its record: a field
    a writer adds that the record does not name would ride in `extra`, unseen by every reader."""
    records = repository.where(*filters)
    assert records, "nothing was written"
    leftovers = {r.id: r.extra for r in records if r.extra}
    assert not leftovers, f"documents hold fields their record does not name: {leftovers}"
