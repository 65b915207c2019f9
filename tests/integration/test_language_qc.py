"""Language QC through the gateway: assignments, the per-language state machine, cue review,
comments, the work queue, and the job moving on when every language is approved."""
from __future__ import annotations

import pytest

from tests.helpers import API

QC = f"{API}/language-qc"



@pytest.fixture
def team(world):
    return {role: world.person(role) for role in ("production", "linguist", "reviewer")}


def lang_url(job_id: str, lang: str, action: str) -> str:
    return f"{QC}/jobs/{job_id}/languages/{lang}/{action}"


def test_full_flow_to_final_review(world, client, team):
    prod, ling, rev = team["production"], team["linguist"], team["reviewer"]
    job = world.job(targets=("fr",))
    jid = job["id"]
    post = client.post

    resp = post(lang_url(jid, "fr", "assign"), json={"user_id": ling.id}, headers=prod.headers)
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "assigned" and resp.json["linguist_id"] == ling.id and resp.json["total_cues"] == 3
    assert post(lang_url(jid, "fr", "assign-reviewer"), json={"user_id": rev.id}, headers=prod.headers).status_code == 200
    # The assignment made the job visible to the linguist, and the status mirror follows the state.
    assert "linguist:" + ling.id in world.store.get(f"jobs/{jid}")["access_keys"]
    assert world.store.get(f"job_status/{jid}")["languages"] == {"fr": "assigned"}

    assert post(lang_url(jid, "fr", "submit"), headers=ling.headers).status_code == 409  # not started yet
    assert post(lang_url(jid, "fr", "start-work"), headers=ling.headers).json["status"] == "in_progress"
    assert post(lang_url(jid, "fr", "submit"), json={"note": "done"}, headers=ling.headers).json["status"] == "submitted"
    assert post(lang_url(jid, "fr", "open-review"), headers=rev.headers).json["status"] == "in_review"

    early = post(lang_url(jid, "fr", "approve"), headers=rev.headers)
    assert early.status_code == 409 and "0/3" in early.json["detail"]
    for index in range(3):
        marked = post(lang_url(jid, "fr", "mark-cue-reviewed"), json={"cue_index": index, "version": 1},
                      headers=rev.headers)
        assert marked.status_code == 200, marked.json
    assert marked.json["reviewed_cues"] == 3 and marked.json["reviewed_cue_indexes"] == [0, 1, 2]
    assert post(lang_url(jid, "fr", "mark-cue-reviewed"), json={"cue_index": 3}, headers=rev.headers).status_code == 422
    assert post(lang_url(jid, "fr", "mark-cue-reviewed"), json={"cue_index": 0, "version": 2},
                headers=rev.headers).status_code == 409

    approved = post(lang_url(jid, "fr", "approve"), headers=rev.headers)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert world.store.get(f"jobs/{jid}")["status"] == "final_review"
    assert world.store.get(f"job_status/{jid}")["status"] == "final_review"
    actions = [e["action"] for e in world.store.find("audit_logs", [("target", "==", f"jobs/{jid}/languages/fr")])]
    assert {"language.assign", "language.assign_reviewer", "language.start_work", "language.submit",
            "language.open_review", "language.approve"} <= set(actions)
    assert world.store.find("audit_logs", [("action", "==", "job.languages_approved")])

    # French is sent back: it is reviewed again from the start, so its cue marks go.
    admin = world.person("admin")
    reopened = post(f"{API}/jobs/{jid}/actions/reject_final", json={"languages": ["fr"], "reason": "typos"},
                    headers=admin.headers)
    assert reopened.status_code == 200, reopened.json
    state = client.get(f"{QC}/jobs/{jid}/language-qc", headers=rev.headers).json["languages"]["fr"]
    assert state["status"] == "in_progress" and state["reviewed_cues"] == 0 and state["reviewed_cue_indexes"] == []


def test_job_waits_for_every_language(world, client, team):
    prod, ling, rev = team["production"], team["linguist"], team["reviewer"]
    job = world.job(targets=("fr", "de"), tracks_for=("en",))  # no target captions: nothing to mark
    jid = job["id"]
    resp = client.post(f"{QC}/jobs/{jid}/languages/bulk-assign",
                       json={"languages": ["fr", "de"], "linguist_id": ling.id, "reviewer_id": rev.id}, headers=prod.headers)
    assert resp.status_code == 200, resp.json
    assert {k: v["status"] for k, v in resp.json["languages"].items()} == {"fr": "assigned", "de": "assigned"}
    for lang in ("fr", "de"):
        for action, who in (("start-work", ling), ("submit", ling), ("open-review", rev), ("approve", rev)):
            assert client.post(lang_url(jid, lang, action), headers=who.headers).status_code == 200, (lang, action)
        expected = "language_qc" if lang == "fr" else "final_review"
        assert world.store.get(f"jobs/{jid}")["status"] == expected
    qc_map = client.get(f"{QC}/jobs/{jid}/language-qc", headers=prod.headers).json
    assert qc_map["job_status"] == "final_review" and set(qc_map["languages"]) == {"fr", "de"}


def test_reject_and_reopen(world, client, team):
    prod, ling, rev = team["production"], team["linguist"], team["reviewer"]
    job = world.job(targets=("fr",))
    jid = job["id"]
    client.post(f"{QC}/jobs/{jid}/languages/bulk-assign", json={"languages": ["fr"], "linguist_id": ling.id,
                                                                "reviewer_id": rev.id}, headers=prod.headers)
    for action, who in (("start-work", ling), ("submit", ling), ("open-review", rev)):
        client.post(lang_url(jid, "fr", action), headers=who.headers)
    assert client.post(lang_url(jid, "fr", "reject"), json={}, headers=rev.headers).status_code == 422
    assert client.post(lang_url(jid, "fr", "reject"), json={"reason": " "}, headers=rev.headers).status_code == 422
    rejected = client.post(lang_url(jid, "fr", "reject"), json={"reason": "cue 2 mistranslated"}, headers=rev.headers)
    assert rejected.json["status"] == "rejected" and rejected.json["rejection_reason"] == "cue 2 mistranslated"
    reopened = client.post(lang_url(jid, "fr", "reopen"), headers=ling.headers)
    assert reopened.status_code == 200 and reopened.json["status"] == "in_progress"
    assert client.post(lang_url(jid, "fr", "reopen"), headers=ling.headers).status_code == 409


def test_assignment_rules(world, client, team):
    prod, ling, rev = team["production"], team["linguist"], team["reviewer"]
    stranger_linguist = world.person("linguist", member=False)
    pm_outside = world.person("project_manager")
    job = world.job()
    jid = job["id"]
    assign = lang_url(jid, "fr", "assign")
    assert client.post(assign, json={"user_id": rev.id}, headers=prod.headers).status_code == 422  # wrong role
    assert client.post(assign, json={"user_id": stranger_linguist.id}, headers=prod.headers).status_code == 422
    assert client.post(assign, json={"user_id": "nobody"}, headers=prod.headers).status_code == 422
    assert client.post(assign, json={}, headers=prod.headers).status_code == 422
    assert client.post(assign, json={"user_id": ling.id}, headers=ling.headers).status_code == 404  # cannot see it
    assert client.post(assign, json={"user_id": ling.id}, headers=rev.headers).status_code == 403  # sees, may not
    assert client.post(assign, json={"user_id": ling.id}, headers=pm_outside.headers).status_code == 404
    assert client.post(lang_url(jid, "it", "assign"), json={"user_id": ling.id}, headers=prod.headers).status_code == 404
    assert client.post(lang_url(jid, "fr", "reassign"), json={"user_id": ling.id}, headers=prod.headers).status_code == 409
    assert client.post(assign, json={"user_id": ling.id}, headers=prod.headers).status_code == 200
    assert client.post(assign, json={"user_id": ling.id}, headers=prod.headers).status_code == 409  # use reassign
    other = world.person("linguist")
    moved = client.post(lang_url(jid, "fr", "reassign"), json={"user_id": other.id}, headers=prod.headers)
    assert moved.status_code == 200 and moved.json["linguist_id"] == other.id and moved.json["status"] == "assigned"
    keys = world.store.get(f"jobs/{jid}")["access_keys"]
    assert f"linguist:{other.id}" in keys and f"linguist:{ling.id}" not in keys
    assert client.get(f"{QC}/jobs/{jid}/language-qc", headers=ling.headers).status_code == 404  # lost access
    assert client.post(lang_url(jid, "fr", "reassign-reviewer"), json={"user_id": rev.id},
                       headers=prod.headers).status_code == 409
    bulk = f"{QC}/jobs/{jid}/languages/bulk-assign"
    assert client.post(bulk, json={"languages": ["fr"]}, headers=prod.headers).status_code == 422
    assert client.post(bulk, json={"languages": ["fr", "it"], "reviewer_id": rev.id}, headers=prod.headers).status_code == 422
    assert client.post(bulk, json={"languages": [], "reviewer_id": rev.id}, headers=prod.headers).status_code == 422
    world.advance(jid, "languages_approved", "complete")
    assert client.post(lang_url(jid, "de", "assign"), json={"user_id": ling.id}, headers=prod.headers).status_code == 409


def test_only_the_assignees_act(world, client, team):
    prod, ling, rev = team["production"], team["linguist"], team["reviewer"]
    other_ling, other_rev, admin = world.person("linguist"), world.person("reviewer"), world.person("admin")
    job = world.job()
    jid = job["id"]
    client.post(f"{QC}/jobs/{jid}/languages/bulk-assign", json={"languages": ["fr"], "linguist_id": ling.id,
                                                                "reviewer_id": rev.id}, headers=prod.headers)
    client.post(lang_url(jid, "de", "assign"), json={"user_id": other_ling.id}, headers=prod.headers)
    assert client.post(lang_url(jid, "fr", "start-work"), headers=other_ling.headers).status_code == 403
    assert client.post(lang_url(jid, "fr", "start-work"), headers=rev.headers).status_code == 403
    assert client.post(lang_url(jid, "fr", "start-work"), headers=prod.headers).status_code == 403
    assert client.post(lang_url(jid, "fr", "start-work"), headers=admin.headers).status_code == 200  # admin acts for anyone
    client.post(lang_url(jid, "fr", "submit"), headers=ling.headers)
    assert client.post(lang_url(jid, "fr", "open-review"), headers=other_rev.headers).status_code == 403
    assert client.post(lang_url(jid, "fr", "open-review"), headers=ling.headers).status_code == 403
    # The job must be in language QC for the work to move.
    world.advance(jid, "languages_approved")
    world.advance(jid, "return_to_qc", reason="the source needs another look")
    stuck = client.post(lang_url(jid, "fr", "open-review"), headers=rev.headers)
    assert stuck.status_code == 409 and "pending_qc" in stuck.json["detail"]
    # A linguist sees only their languages.
    seen = client.get(f"{QC}/jobs/{jid}/language-qc", headers=other_ling.headers).json["languages"]
    assert set(seen) == {"de"}


def test_comments(world, client, team):
    prod, ling = team["production"], team["linguist"]
    other_ling = world.person("linguist")
    job = world.job()
    jid = job["id"]
    client.post(lang_url(jid, "fr", "assign"), json={"user_id": ling.id}, headers=prod.headers)
    client.post(lang_url(jid, "de", "assign"), json={"user_id": other_ling.id}, headers=prod.headers)
    url = f"{QC}/jobs/{jid}/languages/fr/comments"
    first = client.post(url, json={"text": "Check the name in cue 1", "cue_index": 1}, headers=prod.headers)
    assert first.status_code == 201, first.json
    assert first.json["author_id"] == prod.id and first.json["cue_index"] == 1 and first.json["language"] == "fr"
    assert client.post(url, json={"text": "Fixed"}, headers=ling.headers).status_code == 201
    assert client.post(url, json={"text": ""}, headers=ling.headers).status_code == 422
    assert client.post(url, json={"text": "hi"}, headers=other_ling.headers).status_code == 403
    listed = client.get(url, headers=ling.headers).json
    assert [c["text"] for c in listed["items"]] == ["Check the name in cue 1", "Fixed"] and listed["total"] == 2
    assert [c["text"] for c in client.get(f"{url}?cue_index=1", headers=ling.headers).json["items"]] == \
        ["Check the name in cue 1"]
    assert client.get(url, headers=other_ling.headers).status_code == 403


def test_my_queue(world, client, team):
    prod, ling, rev = team["production"], team["linguist"], team["reviewer"]
    older, newer = world.job(targets=("fr",)), world.job(targets=("de", "it"))
    for job, lang in ((older, "fr"), (newer, "it"), (newer, "de")):
        client.post(lang_url(job["id"], lang, "assign"), json={"user_id": ling.id}, headers=prod.headers)
    client.post(lang_url(newer["id"], "de", "assign-reviewer"), json={"user_id": rev.id}, headers=prod.headers)
    for action, who in (("start-work", ling), ("submit", ling)):
        client.post(lang_url(newer["id"], "de", action), headers=who.headers)
    mine = client.get(f"{QC}/me/language-qc-queue", headers=ling.headers).json
    assert [(i["job_id"], i["language"]) for i in mine["items"]] == [(older["id"], "fr"), (newer["id"], "it")]
    assert mine["items"][0]["as_role"] == "linguist" and mine["items"][0]["job_title"] == "The Test Film"
    submitted = client.get(f"{QC}/me/language-qc-queue?status=submitted", headers=ling.headers).json["items"]
    assert [(i["language"], i["status"]) for i in submitted] == [("de", "submitted")]
    review = client.get(f"{QC}/me/language-qc-queue", headers=rev.headers).json["items"]
    assert [(i["language"], i["as_role"]) for i in review] == [("de", "reviewer")]
    paged = client.get(f"{QC}/me/language-qc-queue?size=1&page=2", headers=ling.headers).json
    assert paged["total"] == 2 and [i["language"] for i in paged["items"]] == ["it"]
    first = client.get(f"{QC}/me/language-qc-queue?size=1", headers=ling.headers).json
    after = client.get(f"{QC}/me/language-qc-queue?size=1&cursor={first['next_cursor']}", headers=ling.headers).json
    assert [i["language"] for i in after["items"]] == ["it"] and after["page"] == 2 and "next_cursor" not in after
    assert client.get(f"{QC}/me/language-qc-queue?status=done", headers=ling.headers).status_code == 422
    assert client.get(f"{QC}/me/language-qc-queue", headers=prod.headers).json["items"] == []
