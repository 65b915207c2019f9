"""Briefs through the gateway: create, visibility, draft-only edits, submit, PM approval, audit."""
import datetime as dt

import pytest

from avp.domain.aggregates import Brief
from tests.helpers import API, assert_exact_records
from tests.integration.ops_world import build


@pytest.fixture
def world(client, container):
    return build(container)


def _create(client, world, who="client", **body):
    payload = {"title": "Season 1 captions", "client_id": world.acme["id"], **body}
    return client.post(f"{API}/briefs", json=payload, headers=world.h(who))


def test_create_defaults_and_validation(client, world, container):
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    container.storage.write_bytes("files/briefs/abc/script.pdf", b"%PDF-1.4", "application/pdf")
    uri = container.storage.uri("files/briefs/abc/script.pdf")
    resp = _create(client, world, description="Five episodes", due_date=tomorrow, source_language="EN-gb",
                   project_id=world.project["id"], attachments=[uri],
                   requested_outputs={"accessible_video_mp4": True, "languages": ["fr", "de"]})
    assert resp.status_code == 201, resp.json
    brief = resp.json
    assert brief["status"] == "draft" and brief["org_id"] == world.org["id"]
    assert brief["created_by"] == world.users["client"]["id"] and brief["source_language"] == "en-GB"
    assert brief["due_date"] == tomorrow and brief["attachments"] == [uri]
    assert brief["requested_outputs"]["captions_vtt"] is True and brief["requested_outputs"]["languages"] == ["fr", "de"]

    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    assert _create(client, world, due_date=yesterday).status_code == 422
    missing = _create(client, world, attachments=[container.storage.uri("files/briefs/nope.pdf"), "gs://elsewhere/x"])
    assert missing.status_code == 422 and set(missing.json["detail"]["attachments"]) == {"0", "1"}
    assert _create(client, world, requested_outputs={"languages": ["not a tag!"]}).status_code == 422
    assert client.post(f"{API}/briefs", json={"client_id": world.acme["id"]}, headers=world.h("client")).status_code == 422
    # A client user must name one of their clients; reviewers and linguists do not write briefs.
    no_client = client.post(f"{API}/briefs", json={"title": "x", "org_id": world.org["id"]}, headers=world.h("client"))
    assert no_client.status_code == 422
    assert _create(client, world, who="outsider_client").status_code == 404
    assert _create(client, world, who="reviewer").status_code == 403
    assert _create(client, world, who="other_production").status_code == 404


def test_visibility_and_listing(client, world):
    mine = _create(client, world).json
    by_production = client.post(f"{API}/briefs", json={"title": "Org-wide", "org_id": world.org["id"]},
                                headers=world.h("production")).json
    other = client.post(f"{API}/briefs", json={"title": "B", "org_id": world.other_org["id"]},
                        headers=world.h("other_production")).json

    def listed(who, query=""):
        resp = client.get(f"{API}/briefs{query}", headers=world.h(who))
        assert resp.status_code == 200, resp.json
        return {b["id"] for b in resp.json["items"]}

    assert listed("admin") >= {mine["id"], by_production["id"], other["id"]}
    assert listed("production") == {mine["id"], by_production["id"]}
    assert listed("project_manager") == {mine["id"]}
    assert listed("client") == {mine["id"]}
    assert listed("reviewer") == listed("linguist") == listed("outsider_client") == set()
    assert listed("other_production") == {other["id"]}
    assert listed("admin", f"?org_id={world.org['id']}&status=draft&sort=title") == {mine["id"], by_production["id"]}
    assert listed("production", "?status=approved") == set()
    for who in ("reviewer", "outsider_client", "other_production"):
        assert client.get(f"{API}/briefs/{mine['id']}", headers=world.h(who)).status_code == 404
    assert client.get(f"{API}/briefs/{mine['id']}", headers=world.h("project_manager")).json["title"] == mine["title"]
    page = client.get(f"{API}/briefs?size=1&sort=title", headers=world.h("admin")).json
    assert page["total"] >= 3 and len(page["items"]) == 1 and page["next_cursor"]


def test_draft_submit_approve(client, world, container):
    brief = _create(client, world).json
    url = f"{API}/briefs/{brief['id']}"
    assert client.patch(url, json={}, headers=world.h("client")).status_code == 422
    assert client.patch(url, json={"title": "x"}, headers=world.h("production")).status_code == 403
    edited = client.patch(url, json={"title": "Renamed", "project_id": world.project["id"]}, headers=world.h("client"))
    assert edited.status_code == 200 and edited.json["title"] == "Renamed" and edited.json["project_id"] == world.project["id"]
    assert client.patch(url, json={"project_id": "nope"}, headers=world.h("project_manager")).status_code == 404

    assert client.post(f"{url}/approve", headers=world.h("project_manager")).status_code == 409  # still a draft
    assert client.post(f"{url}/approve", headers=world.h("production")).status_code == 403
    submitted = client.post(f"{url}/submit", json={"note": "ready"}, headers=world.h("client"))
    assert submitted.status_code == 200 and submitted.json["status"] == "submitted" and submitted.json["submitted_at"]
    assert client.post(f"{url}/submit", headers=world.h("client")).status_code == 409
    frozen = client.patch(url, json={"title": "late"}, headers=world.h("client"))
    assert frozen.status_code == 409 and "submitted" in frozen.json["detail"]
    assert client.post(f"{url}/approve", headers=world.h("client")).status_code == 403
    approved = client.post(f"{url}/approve", json={"note": "go"}, headers=world.h("project_manager"))
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert approved.json["approved_by"] == world.users["project_manager"]["id"]
    assert client.post(f"{url}/approve", headers=world.h("admin")).status_code == 409

    entries = container.store.find("audit_logs", [("target", "==", f"briefs/{brief['id']}")])
    assert sorted(e["action"] for e in entries) == ["brief.approve", "brief.create", "brief.submit", "brief.update"]
    assert {e["reason"] for e in entries if e["action"] == "brief.submit"} == {"ready"}
    assert_exact_records(container.store.of(Brief))
