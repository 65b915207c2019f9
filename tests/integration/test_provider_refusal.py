"""A job asking for a provider, model or voice this deployment cannot run is refused with 422 and
the choices it can, wherever its wishes arrive: upload init and complete, direct creation, PATCH
and retry_tts. Here there is no Gemini key and no Google credentials: eSpeak and Whisper only."""
from __future__ import annotations

import io

import pytest

from avp.domain import audit, jobs, tenancy
from tests.helpers import API, ROBOT, bearer, token_for

SEED_EXAMPLE = {"provider": "gemini", "model": "flash", "default_voice": "Kore"}  # the seed spec's own example


@pytest.fixture
def producer(client, container):
    org = tenancy.create_organization(container.store, audit.SYSTEM, name="Acme")
    token, user = token_for(client, container, "production")
    tenancy.add_member(container.store, audit.SYSTEM, ROBOT, org["id"], role="production", user_id=user["id"])
    return bearer(token), org


def _init(client, headers, org, requested):
    return client.post(f"{API}/jobs/upload/init", headers=headers, json={
        "filename": "clip.mp4", "content_type": "video/mp4", "size_bytes": 1000, "org_id": org["id"],
        "requested_outputs": requested})


def test_unconfigured_providers_are_refused_at_upload_init_with_the_choices(client, container, runner, producer):
    headers, org = producer
    gemini = _init(client, headers, org, {"tts_preferences": SEED_EXAMPLE})
    detail = str(gemini.json)
    assert gemini.status_code == 422 and "GEMINI_API_KEY" in detail and "available here: espeak" in detail
    asr = _init(client, headers, org, {"asr_provider": "video_intelligence"})
    assert asr.status_code == 422 and "credentials" in str(asr.json) and "available here: whisper" in str(asr.json)
    voice = _init(client, headers, org, {"tts_preferences": {"provider": "espeak", "default_voice": "Kore"}})
    assert voice.status_code == 422 and "no voice 'Kore'" in str(voice.json) and "GET /tts/voices" in str(voice.json)
    model = _init(client, headers, org, {"tts_preferences": {"provider": "espeak", "model": "flash"}})
    assert model.status_code == 422 and "espeak-ng" in str(model.json)
    assert not container.store.query("jobs", [("org_id", "==", org["id"])]).get()  # nothing was stored


def test_the_contracts_ids_and_the_earlier_aliases_are_accepted(client, container, runner, producer):
    headers, org = producer
    contract = _init(client, headers, org, {"asr_provider": "whisper",
                                            "tts_preferences": {"provider": "espeak", "model": "espeak-ng", "default_voice": "en-us"}})
    assert contract.status_code == 201, contract.json
    alias = _init(client, headers, org, {"asr_provider": "local", "tts_preferences": {"provider": "local", "default_voice": "de"}})
    assert alias.status_code == 201, alias.json
    stored = jobs.get_job(container.store, alias.json["job_id"])["requested_outputs"]
    assert stored["asr_provider"] == "whisper" and stored["tts_preferences"]["provider"] == "espeak"


def test_refused_at_complete_direct_creation_patch_and_retry_tts(client, container, runner, producer):
    headers, org = producer
    session = _init(client, headers, org, None).json
    done = client.post(f"{API}/jobs/upload/complete", headers=headers, json={
        "job_id": session["job_id"], "gcs_uri": session["gcs_uri"], "filename": "clip.mp4", "source_language": "en",
        "requested_outputs": {"tts_preferences": SEED_EXAMPLE}})
    assert done.status_code == 422 and "GEMINI_API_KEY" in str(done.json)
    assert jobs.get_job(container.store, session["job_id"])["status"] == "uploading"  # untouched

    direct = client.post(f"{API}/jobs", headers=headers, content_type="multipart/form-data", data={
        "file": (io.BytesIO(b"\x00" * 64), "clip.mp4", "video/mp4"), "org_id": org["id"], "source_language": "en",
        "requested_outputs": '{"tts_preferences": {"provider": "gemini"}}'})
    assert direct.status_code == 422 and "GEMINI_API_KEY" in str(direct.json)

    patched = client.patch(f"{API}/jobs/{session['job_id']}", headers=headers,
                           json={"requested_outputs": {"asr_provider": "gemini"}})
    assert patched.status_code == 422 and "GEMINI_API_KEY" in str(patched.json)

    retried = client.post(f"{API}/jobs/{session['job_id']}/actions/retry_tts", headers=headers,
                          json={"language": "fr", "tts_preferences": SEED_EXAMPLE})
    assert retried.status_code == 422 and "GEMINI_API_KEY" in str(retried.json) and "espeak" in str(retried.json)
    assert runner.started == [] and runner.languages == []


def test_tts_options_lists_the_contracts_ids_and_only_usable_recognizers(client, producer):
    headers, _ = producer
    options = client.get(f"{API}/tts/options", headers=headers).json
    assert [p["id"] for p in options["providers"]] == ["espeak", "gemini", "cloud_tts"]
    assert options["asr_providers"] == ["whisper"]


def test_a_deployment_default_that_cannot_run_refuses_jobs_that_need_it(client, container, runner, producer):
    headers, org = producer
    container.settings.__dict__["tts_provider"] = "gemini"  # AVP_TTS_PROVIDER=gemini, no GEMINI_API_KEY
    voiced = _init(client, headers, org, {"audio_description_mp3": True})
    assert voiced.status_code == 422 and "AVP_TTS_PROVIDER" in str(voiced.json) and "GEMINI_API_KEY" in str(voiced.json)
    captions_only = _init(client, headers, org, {"captions_vtt": True, "audio_description_vtt": True,
                                                 "audio_description_mp3": False, "accessible_video_mp4": False})
    assert captions_only.status_code == 201, captions_only.json  # nothing to voice: the default does not matter
    chosen = _init(client, headers, org, {"tts_preferences": {"provider": "espeak"}})
    assert chosen.status_code == 201, chosen.json
