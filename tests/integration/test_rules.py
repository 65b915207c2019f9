"""infra/firestore.rules in the Firestore emulator: a listener token from GET /ws/status reads a
job_status document only when its keys meet the document's access_keys (admin: any); nobody writes;
every other collection is closed. Reads go through the emulator's REST API with the token."""
from __future__ import annotations

import threading

import pytest
import requests
from werkzeug.serving import make_server

from avp.auth.tokens import Principal
from avp.domain import audit, jobs, tenancy
from tests.conftest import REPO
from tests.helpers import API, PASSWORD, ROBOT, bearer, token_for

pytestmark = pytest.mark.skipif(not (REPO / "infra" / "firestore.rules").exists(), reason="no rules file")


def seed(container, org: str) -> dict:
    job = jobs.new_job(Principal("someone", "production"), org_id=org, client_id=None, project_id=None, title="t",
                       filename="a.mp4", content_type="video/mp4", size_bytes=1, source_language="en", requested_outputs={})
    jobs.store_new_job(container.store, audit.SYSTEM, job)
    return job


def doc_url(emulators, container, path: str) -> str:
    return (f"http://{emulators['firestore'].host}/v1/projects/{container.settings.project_id}"
            f"/databases/(default)/documents/{path}")


def channel(client, headers, job_id: str | None = None) -> dict:
    resp = client.get(f"{API}/ws/status" + (f"?job_id={job_id}" if job_id else ""), headers=headers)
    assert resp.status_code == 200, resp.json
    return resp.json


def test_status_documents_are_readable_exactly_by_their_audience(client, container, emulators):
    org_1, org_2 = (tenancy.create_organization(container.store, audit.SYSTEM, name=n)["id"] for n in ("One", "Two"))
    mine, theirs = seed(container, org_1), seed(container, org_2)
    token, user = token_for(client, container, "production")
    tenancy.add_member(container.store, audit.SYSTEM, ROBOT, org_1, role="production", user_id=user["id"])
    grant = channel(client, bearer(token), mine["id"])
    assert grant["mode"] == "emulator" and grant["documents"] == [f"job_status/{mine['id']}"]
    assert grant["emulator_host"] == emulators["firestore"].host and grant["collection"] == "job_status"
    assert client.get(f"{API}/ws/status?job_id={theirs['id']}", headers=bearer(token)).status_code == 404
    assert channel(client, bearer(token))["documents"] == [f"job_status/{mine['id']}"]
    auth = {"Authorization": f"Bearer {grant['custom_token']}"}

    allowed = requests.get(doc_url(emulators, container, f"job_status/{mine['id']}"), headers=auth, timeout=10)
    assert allowed.status_code == 200 and allowed.json()["fields"]["status"]["stringValue"] == "uploading"
    assert requests.get(doc_url(emulators, container, f"job_status/{theirs['id']}"), headers=auth, timeout=10).status_code == 403
    assert requests.get(doc_url(emulators, container, f"jobs/{mine['id']}"), headers=auth, timeout=10).status_code == 403
    assert requests.get(doc_url(emulators, container, f"job_status/{mine['id']}"), timeout=10).status_code == 403
    write = requests.patch(doc_url(emulators, container, f"job_status/{mine['id']}"), headers=auth, timeout=10,
                           json={"fields": {"status": {"stringValue": "complete"}}})
    assert write.status_code == 403

    admin_token, _ = token_for(client, container, "admin")
    admin = {"Authorization": f"Bearer {channel(client, bearer(admin_token))['custom_token']}"}
    assert requests.get(doc_url(emulators, container, f"job_status/{theirs['id']}"), headers=admin, timeout=10).status_code == 200


def _run_query(emulators, container, auth: dict, keys: list[str] | None, since: str) -> requests.Response:
    filters = [{"fieldFilter": {"field": {"fieldPath": "created_at"}, "op": "GREATER_THAN_OR_EQUAL",
                                "value": {"timestampValue": since}}}]
    if keys is not None:
        filters.append({"fieldFilter": {"field": {"fieldPath": "access_keys"}, "op": "ARRAY_CONTAINS_ANY",
                                        "value": {"arrayValue": {"values": [{"stringValue": k} for k in keys]}}}})
    where = {"compositeFilter": {"op": "AND", "filters": filters}}
    url = (f"http://{emulators['firestore'].host}/v1/projects/{container.settings.project_id}"
           f"/databases/(default)/documents:runQuery")
    return requests.post(url, json={"structuredQuery": {"from": [{"collectionId": "job_status"}], "where": where}},
                         headers=auth, timeout=10)


def test_a_listener_for_new_jobs_queries_with_its_keys_and_sees_only_its_own(client, container, emulators):
    """What the console's Jobs screen listens with (console/src/live.js `watchNew`): the grant's
    keys and a time; the rules let that query through and refuse one naming other keys."""
    import datetime as dt

    org_1, org_2 = (tenancy.create_organization(container.store, audit.SYSTEM, name=n)["id"] for n in ("One", "Two"))
    token, user = token_for(client, container, "production")
    tenancy.add_member(container.store, audit.SYSTEM, ROBOT, org_1, role="production", user_id=user["id"])
    grant = channel(client, bearer(token))
    assert grant["keys"] == sorted([f"org:{org_1}", f"user:{user['id']}"])
    since = dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    mine, theirs = seed(container, org_1), seed(container, org_2)
    auth = {"Authorization": f"Bearer {grant['custom_token']}"}
    found = _run_query(emulators, container, auth, grant["keys"], since)
    assert found.status_code == 200, found.text
    assert [r["document"]["name"].rsplit("/", 1)[-1] for r in found.json() if "document" in r] == [mine["id"]]
    assert _run_query(emulators, container, auth, [f"org:{org_2}"], since).status_code == 403
    assert _run_query(emulators, container, auth, None, since).status_code == 403  # no keys: all jobs
    admin_token, _ = token_for(client, container, "admin")
    admin_grant = channel(client, bearer(admin_token))
    assert admin_grant["keys"] is None
    everyone = _run_query(emulators, container, {"Authorization": f"Bearer {admin_grant['custom_token']}"}, None, since)
    assert sorted(r["document"]["name"].rsplit("/", 1)[-1] for r in everyone.json() if "document" in r) == \
        sorted([mine["id"], theirs["id"]])


def test_avp_watch_follows_a_job_until_it_rests(client, container, gateway):
    from avp.watch import watch

    org_1 = tenancy.create_organization(container.store, audit.SYSTEM, name="One")["id"]
    job = seed(container, org_1)
    jobs.transition(container.store, audit.SYSTEM, job["id"], "complete_upload")
    _, user = token_for(client, container, "production")
    tenancy.add_member(container.store, audit.SYSTEM, ROBOT, org_1, role="production", user_id=user["id"])
    server = make_server("127.0.0.1", 0, gateway, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out, result = _Capture(), {}
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        assert watch("nope", url, user["email"], PASSWORD, out=out) == 2 and "job not found" in out.text
        follower = threading.Thread(target=lambda: result.update(code=watch(job["id"], url, user["email"], PASSWORD, out=out)))
        follower.start()
        jobs.transition(container.store, audit.SYSTEM, job["id"], "start_processing", changes={"stage": "transcribe"})
        jobs.report_progress(container.store, job["id"], progress=0.5)
        jobs.transition(container.store, audit.SYSTEM, job["id"], "finish_processing")
        follower.join(30)
    finally:
        server.shutdown()
    assert result == {"code": 0} and "pending_qc" in out.text


class _Capture:
    def __init__(self):
        self.text = ""
        self._lock = threading.Lock()

    def write(self, s: str) -> int:
        with self._lock:
            self.text += s
        return len(s)

    def flush(self) -> None:
        pass
