"""Share links through the gateway: created once, stored as hashes, listed, revoked, and the
public preview with its per-IP rate limit."""
from __future__ import annotations

import datetime as dt

from avp.auth.tokens import secret_hash
from avp.domain import share
from tests.helpers import API

SHARE = f"{API}/share"



def test_create_list_open_revoke(world, client, accessible_render):
    creator = world.person("client")
    job = world.job(status="complete", creator=creator, duration=accessible_render.duration)
    world.with_accessible_video(job["id"], accessible_render)
    created = client.post(f"{SHARE}/jobs/{job['id']}/share", json={"label": "for the festival", "languages": ["fr"]},
                          headers=creator.headers)
    assert created.status_code == 201, created.json
    token = created.json["token"]
    assert len(token) >= 43 and created.json["url"] == f"/api/v1/share/public/share/{token}"
    stored = world.store.get(f"share_tokens/{created.json['id']}")
    assert stored["secret_hash"] == secret_hash(token) and token not in str(stored)
    assert stored["expires_at"] - stored["created_at"] == dt.timedelta(days=7)

    listed = client.get(f"{SHARE}/jobs/{job['id']}/share", headers=creator.headers).json["items"]
    assert [t["id"] for t in listed] == [created.json["id"]] and "token" not in listed[0]
    assert "secret_hash" not in listed[0]

    public = client.get(f"{SHARE}/public/share/{token}")
    assert public.status_code == 200, public.json
    assert public.json["title"] == "The Test Film" and public.json["languages"] == ["fr"]
    assert {i["language"] for i in public.json["items"]} == {"fr"}
    assert {i["kind"] for i in public.json["items"]} >= {"captions_vtt", "accessible_mp4"}
    assert world.store.get(f"share_tokens/{created.json['id']}")["last_used_at"] is not None

    assert client.delete(f"{SHARE}/jobs/{job['id']}/share/{created.json['id']}", headers=creator.headers).status_code == 204
    assert client.get(f"{SHARE}/public/share/{token}").status_code == 404
    assert client.get(f"{SHARE}/jobs/{job['id']}/share", headers=creator.headers).json["items"] == []
    assert client.delete(f"{SHARE}/jobs/{job['id']}/share/unknown", headers=creator.headers).status_code == 404


def test_scope_expiry_and_rules(world, client):
    production, linguist, outsider = world.person("production"), world.person("linguist"), world.person("client")
    job = world.job(status="complete")
    url = f"{SHARE}/jobs/{job['id']}/share"
    assert client.post(url, json={"expires_in_hours": 2161}, headers=production.headers).status_code == 422
    assert client.post(url, json={"expires_in_hours": 0}, headers=production.headers).status_code == 422
    assert client.post(url, json={"languages": ["it"]}, headers=production.headers).status_code == 422
    assert client.post(url, json={"assets": ["everything"]}, headers=production.headers).status_code == 422
    assert client.post(url, headers=outsider.headers).status_code == 404
    assert client.get(url, headers=outsider.headers).status_code == 404
    scoped = client.post(url, json={"assets": ["qc_report"], "expires_in_hours": 2160}, headers=production.headers)
    assert scoped.status_code == 201
    items = client.get(f"{SHARE}/public/share/{scoped.json['token']}").json["items"]
    assert {i["kind"] for i in items} == {"qc_report"} and {i["language"] for i in items} == {"en", "fr", "de"}
    # An expired link answers like an unknown one (the clock moved on: a raw write of its expiry).
    world.store.update(f"share_tokens/{scoped.json['id']}", {"expires_at": dt.datetime.now(dt.timezone.utc)})
    assert client.get(f"{SHARE}/public/share/{scoped.json['token']}").status_code == 404
    assert client.get(url, headers=production.headers).json["items"] == []
    assert client.get(f"{SHARE}/public/share/{'x' * 43}").status_code == 404
    # Only complete jobs are shared.
    reviewing = world.job(status="final_review")
    assert client.post(f"{SHARE}/jobs/{reviewing['id']}/share", headers=production.headers).status_code == 409
    assert client.post(url, headers=linguist.headers).status_code == 404  # not assigned: cannot see the job


def test_public_lookup_is_rate_limited_per_ip(world, client, monkeypatch):
    monkeypatch.setattr(share, "PUBLIC_RATE_LIMIT", 3)
    job = world.job(status="complete")
    production = world.person("production")
    token = client.post(f"{SHARE}/jobs/{job['id']}/share", headers=production.headers).json["token"]
    one_ip = {"REMOTE_ADDR": "203.0.113.7"}
    answers = [client.get(f"{SHARE}/public/share/{'y' * 43}", environ_base=one_ip).status_code for _ in range(3)]
    assert answers == [404, 404, 404]
    limited = client.get(f"{SHARE}/public/share/{token}", environ_base=one_ip)
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert client.get(f"{SHARE}/public/share/{token}", environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 200
    # A forged X-Forwarded-For does not make a new client (no trusted proxy locally).
    forged = client.get(f"{SHARE}/public/share/{token}", environ_base=one_ip, headers={"X-Forwarded-For": "192.0.2.9"})
    assert forged.status_code == 429
