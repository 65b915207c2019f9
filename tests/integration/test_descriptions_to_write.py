"""Descriptions still to write: every save of a description track counts its placeholders, and
the job view and the language QC queue show the count until the describer writes them."""
from __future__ import annotations

from tests.helpers import API
from tests.integration.qc_world import DESCRIPTIONS_VTT

QC = f"{API}/language-qc"
WITH_PLACEHOLDERS = DESCRIPTIONS_VTT + (
    "\n00:00:07.000 --> 00:00:09.000\n[Décrire : 7,0–9,0 s, sans dialogue]\n"
    "\n00:00:09.500 --> 00:00:11.000\n<i>[Describe: 9.5–11.0 s, no dialogue]</i>\n")


def test_job_view_and_queue_count_the_placeholders(world, client, accessible_render):
    prod, ling = world.person("production"), world.person("linguist")
    job = world.job(targets=("fr",), duration=accessible_render.duration)
    jid = job["id"]
    world.with_accessible_video(jid, accessible_render)
    assert client.post(f"{QC}/jobs/{jid}/languages/fr/assign", json={"user_id": ling.id},
                       headers=prod.headers).status_code == 200
    assert client.post(f"{QC}/jobs/{jid}/languages/fr/start-work", headers=ling.headers).status_code == 200
    assert client.get(f"{API}/jobs/{jid}", headers=prod.headers).json["descriptions_to_write"] == {"fr": 0}

    def save(content: str, base: int) -> None:
        resp = client.patch(f"{API}/jobs/{jid}/vtt", json={"lang": "fr", "kind": "descriptions", "content": content,
                                                           "base_version": base}, headers=ling.headers)
        assert resp.status_code == 200, resp.json

    def queued() -> int:
        (item,) = client.get(f"{QC}/me/language-qc-queue", headers=ling.headers).json["items"]
        return item["descriptions_to_write"]

    save(WITH_PLACEHOLDERS, 1)
    assert client.get(f"{API}/jobs/{jid}", headers=prod.headers).json["descriptions_to_write"] == {"fr": 2}
    assert queued() == 2
    written = WITH_PLACEHOLDERS.replace("[Décrire : 7,0–9,0 s, sans dialogue]", "Un bateau quitte le port.")
    save(written, 2)
    assert client.get(f"{API}/jobs/{jid}", headers=ling.headers).json["descriptions_to_write"] == {"fr": 1}
    assert queued() == 1
