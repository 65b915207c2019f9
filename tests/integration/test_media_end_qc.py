"""Caption QC checks every version against the end of the media: a cue a person moves past the
end is flagged on the version it is saved in, like every other QC rule."""
from __future__ import annotations

from tests.helpers import API
from tests.integration.qc_world import SOURCE_VTT


def test_a_caption_version_with_a_cue_after_the_media_end_is_flagged(world, client):
    prod = world.person("production")
    job = world.job(status="pending_qc", targets=(), duration=12.0)
    jid = job["id"]
    first = client.get(f"{API}/jobs/{jid}/vtt?lang=en&kind=captions", headers=prod.headers).json
    assert "after_media_end" not in first["qc"]["totals"]
    late = SOURCE_VTT + "\n00:00:11.000 --> 00:00:12.800\nSee you tomorrow.\n"
    saved = client.patch(f"{API}/jobs/{jid}/vtt", json={"lang": "en", "kind": "captions", "content": late,
                                                        "base_version": 1}, headers=prod.headers)
    assert saved.status_code == 200, saved.json
    assert saved.json["qc"]["totals"] == {"after_media_end": 1} and saved.json["qc"]["ok"] is False
    asset = client.get(f"{API}/jobs/{jid}", headers=prod.headers).json["outputs"]["en"]["qc_report"]
    report = world.storage.read_json(world.storage.path_of(asset["gcs_uri"]))
    [violation] = report["violations"]
    assert (violation["cue_index"], violation["value"], violation["limit"]) == (3, 12.8, 12.0)
    # Shifting that version later by 2.6 s takes the cue before it past the end too.
    shifted = client.post(f"{API}/jobs/{jid}/vtt/adjust-timing", json={"lang": "en", "kind": "captions",
                                                                       "offset_ms": 2600, "base_version": 2},
                          headers=prod.headers)
    assert shifted.status_code == 200, shifted.json
    assert shifted.json["qc"]["totals"] == {"after_media_end": 2}
