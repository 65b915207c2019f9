"""The pipeline end to end through the real local executor: the workflow YAML, a child process
per step, the emulators, real ffmpeg, real speech recognition and synthesis."""
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import avp
from avp.auth.tokens import Principal
from avp.captions.model import Cue
from avp.captions.vtt import parse_vtt, write_vtt
from avp.describe.drafts import is_placeholder
from avp.domain import deliverables, jobs, tracks
from avp.domain.audit import SYSTEM
from avp.media import ffmpeg
from avp.media.probe import probe
from avp.domain import plan
from avp.pipeline.runner import LocalRunner
from avp.providers.asr.audio import load_audio

pytestmark = pytest.mark.slow
SAMPLE = Path(avp.__file__).parent / "demo_media" / "sample.mp4"
ALL = {"captions_vtt": True, "audio_description_vtt": True, "audio_description_mp3": True, "accessible_video_mp4": True}


def _queued_job(container, source: Path, requested=ALL, filename="film.mp4") -> dict:
    job = jobs.new_job(Principal("u-test", "admin"), org_id="org-1", client_id=None, project_id=None, title="t",
                       filename=filename, content_type="video/mp4", size_bytes=source.stat().st_size,
                       source_language="en", requested_outputs=requested)
    jobs.store_new_job(container.store, SYSTEM, job)
    container.storage.upload_file(job["source_path"], source, "video/mp4")
    jobs.transition(container.store, SYSTEM, job["id"], "complete_upload")
    return job


def _run(container, job, steps=None, timeout=600):
    runner = LocalRunner(container.settings.project_id, container.settings.region, env=container.settings.to_env())
    steps = steps if steps is not None else plan.steps_for(job["requested_outputs"])
    execution_id = runner.start_pipeline(job["id"], steps)
    jobs.transition(container.store, SYSTEM, job["id"], "start_processing", changes={"execution_id": execution_id})
    return runner, runner.wait(execution_id, timeout)


def test_sample_video_goes_through_every_step(container, tmp_path):
    job = _queued_job(container, SAMPLE)
    _, result = _run(container, job)
    assert result["state"] == "SUCCEEDED", result
    job = jobs.get_job(container.store, job["id"])
    assert job["status"] == "pending_qc" and job["progress"] == 1.0
    assert set(job["steps_done"]) == set(plan.STEPS)
    assert job["media"]["duration"] == pytest.approx(30.0, abs=0.1) and job["media"]["has_audio"]
    out = job.outputs["en"]
    captions = parse_vtt(container.storage.read_text(out.asset("captions_vtt").path)).cues
    text = " ".join(c.text for c in captions).lower().replace("\n", " ")
    assert "welcome to the harbo" in text and "fishing boats come home" in text
    assert captions[0].start == pytest.approx(0.6, abs=0.25)
    assert job["caption_qc"]["ok"] is True
    descriptions = parse_vtt(container.storage.read_text(out.asset("description_vtt").path)).cues
    assert descriptions and all(c.data.get("draft") for c in descriptions)
    assert any("Chapter One" in c.text for c in descriptions)
    assert all(c.end <= job["media"]["duration"] for c in descriptions)
    assert out.fit_report["overlaps_speech"] == 0
    pauses = container.storage.read_json(out.pause_points)
    mp4 = tmp_path / "accessible.mp4"
    container.storage.download_file(out.asset("accessible_mp4").path, mp4)
    info = probe(mp4)
    assert info.duration == pytest.approx(30.0 + sum(p["duration"] for p in pauses), abs=0.1)
    mp3 = tmp_path / "description.mp3"
    container.storage.download_file(out.asset("description_mp3").path, mp3)
    assert probe(mp3).duration == pytest.approx(30.0, abs=0.15)
    _assert_placeholders_stay_silent(container, job, descriptions, mp3, mp4, tmp_path)
    status = container.store.get(f"job_status/{job['id']}")
    assert status["status"] == "pending_qc"

    # A describer rewrites the drafts; re-voicing (what retry_tts starts) speaks their words.
    edited = [Cue(c.start, c.end, f"A lighthouse beam sweeps the water {i}.", data=dict(c.data))
              for i, c in enumerate(descriptions)]
    tracks.save_version(container.store, container.storage, SYSTEM, job["id"], "en", "descriptions",
                        write_vtt(edited, kind="descriptions"), source="edit")
    runner = LocalRunner(container.settings.project_id, container.settings.region, env=container.settings.to_env())
    revoice = runner.wait(runner.start_languages(job["id"], ["en"], ["synthesize", "render"]), 300)
    assert revoice["state"] == "SUCCEEDED", revoice
    job = jobs.get_job(container.store, job["id"])
    voiced = parse_vtt(container.storage.read_text(job.outputs["en"].asset("description_vtt").path)).cues
    assert sorted(c.text for c in voiced) == sorted(c.text for c in edited)  # each at its target, in time order
    assert job["descriptions_to_write"] == {"en": 0}

    # A pause point moved in the editor re-renders that language's accessible video.
    pauses = container.storage.read_json(out.pause_points)
    moved = deliverables.move_pause_point(container.store, container.storage, runner, SYSTEM, Principal("u-test", "admin"),
                                          job["id"], "en", pauses[-1]["cue_index"], 12.0)
    assert moved["render_status"] == "rendering"
    rerender = runner.wait(jobs.get_job(container.store, job["id"])["renders"]["en"]["execution_id"], 300)
    assert rerender["state"] == "SUCCEEDED", rerender
    assert deliverables.render_status(jobs.get_job(container.store, job["id"]), "en", runner) == "current"
    assert [p["at"] for p in container.storage.read_json(out.pause_points)][-1] == 12.0
    container.storage.download_file(jobs.get_job(container.store, job["id"]).outputs["en"].asset("accessible_mp4").path, mp4)
    assert probe(mp4).duration == pytest.approx(30.0 + sum(p["duration"] for p in pauses), abs=0.1)


def _assert_placeholders_stay_silent(container, job, descriptions, mp3, mp4, tmp_path):
    """The drafter's placeholders stay in the track, counted as still to write, but nothing
    voices them: no voice file, no pause, no speech in the description MP3, no text in the
    accessible video's description track."""
    to_write = [i for i, c in enumerate(descriptions) if is_placeholder(c.text)]
    voiced = [i for i, c in enumerate(descriptions) if not is_placeholder(c.text)]
    assert to_write and voiced  # the sample has a long stretch without dialogue, and a title card
    assert job["descriptions_to_write"] == {"en": len(to_write)}
    assert all("mode" not in descriptions[i].data for i in to_write)
    voice_files = container.storage.list(f"jobs/{job['id']}/work/en/voice/")
    assert sorted(int(Path(p).stem) for p in voice_files) == voiced
    pauses = container.storage.read_json(job.outputs["en"].pause_points)
    assert {p["cue_index"] for p in pauses} <= set(voiced)
    # What the MP3 adds to the programme: speech where voiced cues play, nothing over a
    # placeholder's stretch away from them.
    mezzanine = tmp_path / "mezzanine.mp4"
    container.storage.download_file(f"jobs/{job['id']}/work/mezzanine.mp4", mezzanine)
    mixed, programme = load_audio(mp3), load_audio(mezzanine)
    added = mixed[:len(programme)] - programme[:len(mixed)]

    def level(start: float, end: float) -> float:  # dBFS of what the mix added
        piece = added[int(start * 16000):int(end * 16000)]
        return 20 * math.log10(math.sqrt(float((piece ** 2).mean())) + 1e-9)

    spoken = [(descriptions[i].start, descriptions[i].start + descriptions[i].data["audio_duration"]) for i in voiced
              if descriptions[i].data["mode"] == "standard"]
    assert spoken and min(level(a, b) for a, b in spoken) > -40
    for i in to_write:
        quiet = [(a, b) for a, b in _minus(descriptions[i].start, descriptions[i].end, spoken) if b - a >= 1.0]
        assert quiet and max(level(a, b) for a, b in quiet) < -55, (descriptions[i].text, quiet)
    # The accessible video's description text track carries the voiced descriptions only.
    described = tmp_path / "described.vtt"
    ffmpeg.run(["-y", "-i", mp4, "-map", "0:s:1", "-c:s", "webvtt", described])
    in_video = [c.text for c in parse_vtt(described.read_text(), strict=False).cues]
    assert in_video == [descriptions[i].text for i in voiced]


def _minus(start: float, end: float, spans) -> list[tuple[float, float]]:
    """`start`..`end` without `spans`, each widened by half a second (mixing fades)."""
    pieces = [(start, end)]
    for a, b in spans:
        a, b = a - 0.5, b + 0.5
        pieces = [p for x, y in pieces for p in ((x, min(y, a)), (max(x, b), y)) if p[1] > p[0]]
    return pieces


@pytest.mark.parametrize("kind, reason", [("text", "not a video or audio file"), ("corrupt", "")])
def test_broken_uploads_fail_with_a_reason_and_no_retries(container, tmp_path, kind, reason):
    fake = tmp_path / "upload.mp4"
    if kind == "text":
        fake.write_text("these are meeting notes, not a video\n" * 50)
    else:  # the middle of a real video: no header, damaged data
        data = SAMPLE.read_bytes()
        fake.write_bytes(data[len(data) // 3: 2 * len(data) // 3])
    job = _queued_job(container, fake)
    runner, result = _run(container, job, steps=["ingest", "transcribe", "captions"])
    assert result["state"] == "FAILED"
    job = jobs.get_job(container.store, job["id"])
    assert job["status"] == "failed" and job["failed_step"] == "ingest"
    assert reason in job["failure_reason"] and len(job["failure_reason"]) > 20
    log = runner.manager.get(result["id"]).log
    assert sum("starting ingest" in line for line in log) == 1  # permanent: never retried
    assert container.store.get(f"job_status/{job['id']}")["status"] == "failed"


def _wait_for(predicate, timeout=120, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not reached in time")


def _children(job_id: str) -> str:
    return subprocess.run(["pgrep", "-f", f"avp.pipeline .*{job_id}"], capture_output=True, text=True).stdout.strip()


def test_cancel_stops_the_running_step_within_seconds(container):
    job = _queued_job(container, SAMPLE)
    runner = LocalRunner(container.settings.project_id, container.settings.region, env=container.settings.to_env())
    execution_id = runner.start_pipeline(job["id"], plan.steps_for(ALL))
    jobs.transition(container.store, SYSTEM, job["id"], "start_processing", changes={"execution_id": execution_id})
    _wait_for(lambda: jobs.get_job(container.store, job["id"]).get("stage") in ("transcribe", "shots", "captions"))
    started = time.monotonic()
    runner.cancel(execution_id)
    jobs.transition(container.store, SYSTEM, job["id"], "cancel")
    assert runner.wait(execution_id, 10)["state"] == "CANCELLED"
    _wait_for(lambda: not _children(job["id"]), timeout=5)
    assert time.monotonic() - started < 5
    assert jobs.get_job(container.store, job["id"])["status"] == "cancelled"


def test_retry_resumes_at_the_failed_step(container):
    requested = {"captions_vtt": True, "asr_provider": "no-such-recognizer"}
    job = _queued_job(container, SAMPLE, requested=requested)
    _, first = _run(container, job)
    assert first["state"] == "FAILED"
    failed = jobs.get_job(container.store, job["id"])
    assert failed["status"] == "failed" and failed["failed_step"] == "transcribe"
    assert "unknown speech-to-text provider" in failed["failure_reason"]
    assert "ingest" in failed["steps_done"]
    # The operator's fix (another recognizer) goes with the retry, through the state machine.
    jobs.transition(container.store, SYSTEM, job["id"], "retry", changes={"requested_outputs.asr_provider": "local"})
    steps = plan.steps_for(requested, done=failed["steps_done"])
    assert steps == ["transcribe", "captions"]
    runner, second = _run(container, jobs.get_job(container.store, job["id"]), steps=steps)
    assert second["state"] == "SUCCEEDED", second
    log = runner.manager.get(second["id"]).log
    assert not any("starting ingest" in line for line in log)
    assert jobs.get_job(container.store, job["id"])["status"] == "pending_qc"


def test_a_step_killed_mid_way_and_run_again_gives_whole_outputs(container):
    job = _queued_job(container, SAMPLE)
    env = {**os.environ, **container.settings.to_env()}
    cmd = [sys.executable, "-m", "avp.pipeline", "ingest", "--job-id", job["id"]]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(lambda: (jobs.get_job(container.store, job["id"]).step_progress or 0) >= 0.2, every=0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    prefix = f"jobs/{job['id']}/work/"
    assert container.storage.list(prefix) in ([], [f"{prefix}mezzanine.mp4"])  # nothing half-written
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    assert sorted(container.storage.list(prefix)) == [f"{prefix}mezzanine.mp4", f"{prefix}speech.wav"]
    local = Path(container.settings.data_dir) / "m.mp4"
    container.storage.download_file(f"{prefix}mezzanine.mp4", local)
    assert probe(local).duration == pytest.approx(30.0, abs=0.1)


def test_silence_gives_an_empty_valid_vtt_and_still_reaches_qc(container, tmp_path):
    from avp.media.ffmpeg import run

    silent = tmp_path / "silent.mp4"
    run(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:duration=6", "-f", "lavfi", "-i",
         "anoisesrc=color=pink:amplitude=0.02:duration=6", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-shortest", "-y", silent])
    job = _queued_job(container, silent, requested={"captions_vtt": True})
    _, result = _run(container, job)
    assert result["state"] == "SUCCEEDED", result
    job = jobs.get_job(container.store, job["id"])
    assert job["status"] == "pending_qc"
    assert any("no speech found" in note for note in job["notes_pipeline"])
    doc = parse_vtt(container.storage.read_text(job.outputs["en"].asset("captions_vtt").path))
    assert doc.cues == []


def test_approving_the_source_makes_every_target_language(container):
    requested = {**ALL, "accessible_video_mp4": False, "languages": ["fr"]}
    job = _queued_job(container, SAMPLE, requested=requested)
    runner, result = _run(container, job)
    assert result["state"] == "SUCCEEDED", result
    admin = Principal("u-test", "admin")
    approved = jobs.take_action(container.store, runner, admin, SYSTEM, job["id"], "approve_source")
    assert approved["status"] == "language_qc"
    languages = runner.wait(approved["languages_execution_id"], 300)
    assert languages["state"] == "SUCCEEDED", languages
    job = jobs.get_job(container.store, job["id"])
    fr = job.outputs["fr"]
    cues = parse_vtt(container.storage.read_text(fr.asset("captions_vtt").path)).cues
    assert cues and all(c.data.get("untranslated") for c in cues)  # no offline translator: drafts, flagged
    assert job["languages"]["fr"]["machine_translated"] is False and "no translation provider" in job["languages"]["fr"]["translation_note"]
    assert container.storage.exists(fr.asset("description_mp3").path)


def test_a_voice_this_deployment_cannot_use_fails_once_with_a_reason_a_person_can_act_on(container):
    requested = {**ALL, "tts_preferences": {"provider": "gemini", "model": "flash", "default_voice": "Kore"}}
    job = _queued_job(container, SAMPLE, requested=requested)
    runner = LocalRunner(container.settings.project_id, container.settings.region,
                         env={**container.settings.to_env(), "GEMINI_API_KEY": ""})  # this deployment has no key
    execution_id = runner.start_pipeline(job["id"], ["synthesize"])
    jobs.transition(container.store, SYSTEM, job["id"], "start_processing", changes={"execution_id": execution_id})
    result = runner.wait(execution_id, 120)
    assert result["state"] == "FAILED" and result["error"]["tags"] == ["OperationError"]
    failed = jobs.get_job(container.store, job["id"])
    assert failed["status"] == "failed" and failed["failed_step"] == "synthesize"
    reason = failed["failure_reason"]
    assert reason.startswith("Voicing the descriptions (synthesize) failed: ") and "GEMINI_API_KEY" in reason
    assert "Traceback" not in reason and "\n" not in reason
    assert container.store.get(f"job_status/{job['id']}")["failure_reason"] == reason
    log = runner.manager.get(execution_id).log
    assert sum("starting synthesize" in line for line in log) == 1  # permanent: never retried
    assert not any("starting fail" in line for line in log)  # the step's own reason stands
