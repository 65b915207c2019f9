"""A real video through the whole local stack over HTTP: `avp up`, the public upload API, the
executor, and the caption timing the handbook measures on it ("Banana." at about 40 s)."""
import pytest

from avp.captions.vtt import parse_vtt
from avp.demo import Api, follow, upload
from tests.e2e.stack import StackProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_example_video_captions_are_timed_to_the_speech(tmp_path, media_dir):
    stack = StackProcess(tmp_path / "data").start()
    try:
        api = Api(stack.url)
        api.login("admin@example.com", "admin password 1234")
        org = api.call("POST", "/organizations", json={"name": "E2E"})["id"]
        captions_only = {"captions_vtt": True, "audio_description_vtt": False, "audio_description_mp3": False}
        job_id = upload(api, media_dir / "video" / "example-720p.mp4", org, "en", captions_only)
        job = follow(api, job_id, timeout=300)
        assert job["status"] == "pending_qc", job
        media = job["media"]
        assert media["duration"] == pytest.approx(42.4, abs=0.1)
        assert (media["width"], media["height"]) == (1280, 720) and media["has_audio"]
        assert set(job["step_seconds"]) == {"ingest", "transcribe", "captions"}  # nothing else was asked for
        vtt = api.call("GET", f"/jobs/{job_id}/vtt", params={"lang": "en", "kind": "captions"})["content"]
        cues = parse_vtt(vtt).cues
        banana = [c for c in cues if c.text.strip().lower().startswith("banana")]
        assert banana, [c.text for c in cues]
        assert banana[-1].start == pytest.approx(39.9, abs=0.25)
        assert cues[0].start < 1.0 and job["caption_qc"]["ok"]
    finally:
        stack.stop()
