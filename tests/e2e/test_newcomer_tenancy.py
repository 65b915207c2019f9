"""The aggregates a newcomer meets after the pipeline, over real HTTP through `avp up` on a clean data
dir, each answer checked against openapi.yaml: organization, client, project, team and PM; a user;
an invitation read from the local outbox, previewed and accepted; an upload placed in the client's
project and run by the real pipeline; what the invited client user may see and do; review notes;
a share link opened anonymously and revoked; a glossary and a brief; a deleted user signing in."""
from __future__ import annotations

import email
import io
import re
import time

import openpyxl
import pytest
import requests
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from avp.demo import SAMPLE
from tests.e2e.stack import StackProcess
from tests.integration.test_upload import put_chunks
from tests.openapi_client import _errors, contract

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Checked(requests.Session):
    """A session whose every API exchange must be what openapi.yaml documents."""

    def request(self, method, url, *args, **kwargs):
        response = super().request(method, url, *args, **kwargs)
        if "/api/v1/" in url:
            result = contract().unmarshal_response(RequestsOpenAPIRequest(response.request),
                                                   RequestsOpenAPIResponse(response))
            problems = [m for e in result.errors for m in _errors(e)]
            assert not problems, f"{method} {url} -> {response.status_code}: {problems}"
        return response


def signed_in(base: str, email_: str, password: str) -> Checked:
    session = Checked()
    r = session.post(f"{base}/auth/login", json={"email": email_, "password": password}, timeout=10)
    assert r.status_code == 200, r.text
    session.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return session


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    process = StackProcess(tmp_path_factory.mktemp("newcomer")).start()
    yield process
    assert process.stop() == 0


def test_a_newcomer_sets_up_a_client_invites_a_user_and_shares_a_job(stack):
    url, base = stack.url, f"{stack.url}/api/v1"
    admin = signed_in(base, "admin@example.com", "admin password 1234")
    org = admin.post(f"{base}/organizations", json={"name": "Harbour Films"}, timeout=10).json()
    assert admin.post(f"{base}/organizations", json={"name": "harbour films"}, timeout=10).status_code == 409
    client = admin.post(f"{base}/clients", json={"org_id": org["id"], "name": "Acme"}, timeout=10).json()
    project = admin.post(f"{base}/clients/{client['id']}/projects", json={"name": "Spring"}, timeout=10).json()
    team = admin.post(f"{base}/clients/{client['id']}/teams", json={"name": "Editors"}, timeout=10).json()
    pm = admin.post(f"{base}/admin/users", json={"email": "pm@example.com", "role": "project_manager", "display_name": "Pat",
                                                 "password": "pm password 12345", "org_ids": [org["id"]]}, timeout=10).json()
    assert pm["display_name"] == "Pat" and pm["is_active"] and pm["org_ids"] == [org["id"]]
    assert admin.post(f"{base}/clients/{client['id']}/pm", json={"user_id": pm["id"]}, timeout=10).status_code == 200

    invited = admin.post(f"{base}/organizations/{org['id']}/members", timeout=10, json={
        "email": "newbie@example.com", "role": "client", "invite": True, "client_id": client["id"], "team_id": team["id"]})
    assert invited.status_code == 202, invited.text
    mails = [email.message_from_bytes(p.read_bytes()) for p in stack.data_dir.rglob("*.eml")]
    [token] = [m for mail in mails if mail["To"] == "newbie@example.com"
               for m in re.findall(r"token=([A-Za-z0-9_\-]+)", mail.get_payload(decode=True).decode())]
    anonymous = Checked()
    assert anonymous.post(f"{base}/invitations/preview", json={"token": token}, timeout=10).json()["email"] == "newbie@example.com"
    accepted = anonymous.post(f"{base}/invitations/accept", timeout=10,
                              json={"token": token, "display_name": "New Bie", "password": "newbie password 123"})
    assert accepted.status_code == 200 and accepted.json()["user"]["org_ids"] == [org["id"]]
    assert anonymous.post(f"{base}/invitations/accept", json={"token": token, "password": "x" * 12}, timeout=10).status_code == 410
    newbie = signed_in(base, "newbie@example.com", "newbie password 123")
    assert [m["org_name"] for m in newbie.get(f"{base}/organizations/me/memberships", timeout=10).json()["items"]] == [
        "Harbour Films"]

    video = SAMPLE.read_bytes()
    placed = {"org_id": org["id"], "client_id": client["id"], "project_id": project["id"]}
    up = admin.post(f"{base}/jobs/upload/init", timeout=10, json={
        "filename": "sample.mp4", "content_type": "video/mp4", "size_bytes": len(video), "source_language": "en",
        "requested_outputs": {"languages": []}, **placed}).json()
    put_chunks(up["upload_url"], video)
    done = admin.post(f"{base}/jobs/upload/complete", timeout=30, json={
        "job_id": up["job_id"], "gcs_uri": up["gcs_uri"], "filename": "sample.mp4", "source_language": "en",
        "requested_outputs": {"languages": []}})
    assert done.status_code == 202, done.text
    job_id, deadline = up["job_id"], time.monotonic() + 240
    while (job := admin.get(f"{base}/jobs/{job_id}", timeout=10).json())["status"] in ("uploading", "queued", "processing"):
        assert time.monotonic() < deadline, job
        time.sleep(1)
    assert job["status"] == "pending_qc" and {k: job[k] for k in placed} == placed
    assert all(job["outputs"]["en"][k]["status"] == "ready" and job["outputs"]["en"][k]["size_bytes"] > 0
               for k in ("captions_vtt", "description_vtt", "description_mp3", "qc_report"))
    assert newbie.get(f"{base}/jobs/{job_id}", timeout=10).status_code == 200  # a member of the client's team

    note = admin.post(f"{base}/jobs/{job_id}/review-notes", json={"timestamp": 2.5, "text": "Check this cut"}, timeout=10).json()
    assert admin.post(f"{base}/jobs/{job_id}/review-notes", json={"timestamp": 9999, "text": "x"}, timeout=10).status_code == 422
    assert newbie.patch(f"{base}/jobs/{job_id}/review-notes/{note['id']}", json={"text": "mine"}, timeout=10).status_code == 403
    assert admin.patch(f"{base}/jobs/{job_id}/review-notes/{note['id']}", json={"status": "resolved"},
                       timeout=10).json()["status"] == "resolved"
    assert admin.get(f"{base}/jobs/{job_id}/review-notes", params={"status": "resolved"}, timeout=10).json()["total"] == 1

    assert admin.post(f"{base}/share/jobs/{job_id}/share", json={}, timeout=10).status_code == 409  # not complete yet
    for action in ("approve_source", "complete"):
        assert admin.post(f"{base}/jobs/{job_id}/actions/{action}", json={}, timeout=30).status_code == 200
    link = admin.post(f"{base}/share/jobs/{job_id}/share", json={"label": "press", "expires_in_hours": 2}, timeout=10).json()
    public = anonymous.get(f"{url}{link['url']}", timeout=10).json()
    kinds = {item["kind"]: item for item in public["items"]}
    assert set(kinds) == {"source_video", "captions_vtt", "description_vtt", "description_mp3", "qc_report"}
    captions = requests.get(kinds["captions_vtt"]["url"], timeout=10)
    assert captions.status_code == 200 and captions.text.startswith("WEBVTT")
    assert len(captions.content) == kinds["captions_vtt"]["size_bytes"]
    assert admin.delete(f"{base}/share/jobs/{job_id}/share/{link['id']}", timeout=10).status_code == 204
    assert anonymous.get(f"{url}{link['url']}", timeout=10).status_code == 404

    book = openpyxl.Workbook()
    for row in (("en", "fr"), ("harbour", "port"), ("lighthouse", "phare")):
        book.active.append(row)
    sheet = io.BytesIO()
    book.save(sheet)
    glossary = admin.post(f"{base}/glossaries", data={"name": "Harbour", "org_id": org["id"], "source_language": "en"},
                          files={"file": ("terms.xlsx", sheet.getvalue(), XLSX)}, timeout=60)
    assert glossary.status_code == 201, glossary.text
    assert admin.get(f"{base}/glossaries/{glossary.json()['id']}/terms", timeout=10).json()["total"] == 2
    brief = admin.post(f"{base}/briefs", json={"title": "Next film", **placed}, timeout=10).json()
    assert admin.post(f"{base}/briefs/{brief['id']}/submit", json={}, timeout=10).json()["status"] == "submitted"

    assert admin.delete(f"{base}/admin/users/{pm['id']}", timeout=10).status_code == 204
    gone = requests.post(f"{base}/auth/login", json={"email": "pm@example.com", "password": "pm password 12345"}, timeout=10)
    assert gone.status_code == 401
