"""The cloud TTS adapters against local fakes of their HTTP APIs."""
from __future__ import annotations

import re

import pytest
from google.auth.credentials import AnonymousCredentials

from avp.providers.tts import TtsError, get_tts
from avp.providers.tts.gemini import GeminiTts
from avp.providers.tts.google import GoogleTts


def camel(value):
    """Proto3 JSON accepts snake_case and lowerCamelCase field names; the SDK sends a mix."""
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): camel(v) for k, v in value.items()}
    return value


def gemini(fake_api) -> GeminiTts:
    return get_tts("gemini", {"api_key": "test-key", "base_url": fake_api.url, "model": "gemini-2.5-flash-preview-tts"})


def test_gemini_sends_voice_and_audio_modality_and_reads_pcm(fake_api):
    speech = gemini(fake_api).synthesize("A door opens.", voice="Kore")
    method, path, body = fake_api.requests[-1]
    assert path.endswith("/models/gemini-2.5-flash-preview-tts:generateContent")  # the SDK picks the API version
    assert body["contents"][0]["parts"][0]["text"] == "A door opens."
    config = camel(body["generationConfig"])
    assert config["responseModalities"] == ["AUDIO"]
    assert config["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"] == "Kore"
    assert speech.sample_rate == 24000 and speech.duration == pytest.approx(1.5)


def test_gemini_rate_is_applied_to_the_audio(fake_api):
    speech = gemini(fake_api).synthesize("A door opens.", voice="Puck", rate=1.25)
    assert speech.duration == pytest.approx(1.5 / 1.25, abs=0.02)


def test_gemini_voices_and_errors(fake_api):
    tts = gemini(fake_api)
    assert {"Kore", "Puck", "Charon"} <= {v.id for v in tts.voices()} and len(tts.voices()) == 30
    assert "en-US" in tts.languages()
    with pytest.raises(TtsError):
        tts.synthesize("hi", voice="Nobody")
    fake_api.fail_with = 429
    with pytest.raises(TtsError, match="429") as busy:
        tts.synthesize("hi", voice="Kore")
    assert busy.value.permanent is False  # a quota that clears: the pipeline retries
    fake_api.fail_with = 400
    with pytest.raises(TtsError, match="400") as refused:
        tts.synthesize("hi", voice="Kore")
    assert refused.value.permanent is True  # a bad request or key stays so


def test_the_seed_specs_tts_example_is_accepted_and_runs_when_gemini_is_configured(fake_api):
    from avp.config import Settings
    from avp.domain.uploads import parse_requested_outputs
    from avp.providers.offer import check_available

    seed = {"tts_preferences": {"provider": "gemini", "model": "flash", "default_voice": "Kore"}}
    requested = parse_requested_outputs(seed)
    check_available(requested, Settings(gemini_api_key="test-key"))  # passes: nothing raised
    prefs = requested["tts_preferences"]
    tts = get_tts(prefs["provider"], {"api_key": "test-key", "base_url": fake_api.url, "model": prefs["model"]})
    speech = tts.synthesize("A door opens.", voice=prefs["default_voice"])
    _, path, body = fake_api.requests[-1]
    assert path.endswith("/models/gemini-2.5-flash-preview-tts:generateContent")  # "flash" is the Flash TTS model
    assert camel(body["generationConfig"])["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"] == "Kore"
    assert speech.duration == pytest.approx(1.5)


def google(fake_api) -> GoogleTts:
    return GoogleTts(endpoint=fake_api.url, credentials=AnonymousCredentials())


def test_google_lists_voices(fake_api):
    tts = google(fake_api)
    assert [(v.id, v.language, v.gender) for v in tts.voices()] == [
        ("en-US-Neural2-C", "en-US", "female"),
        ("de-DE-Neural2-B", "de-DE", "male"),
    ]
    assert tts.languages() == ["de-DE", "en-US"]


def test_google_synthesizes_linear16_at_the_native_rate(fake_api):
    speech = google(fake_api).synthesize("A door opens.", voice="en-US-Neural2-C", rate=1.25)
    method, path, body = fake_api.requests[-1]
    assert (method, path) == ("POST", "/v1/text:synthesize")
    assert body["input"] == {"text": "A door opens."}
    assert body["voice"] == {"languageCode": "en-US", "name": "en-US-Neural2-C"}
    assert body["audioConfig"]["audioEncoding"] == "LINEAR16" and body["audioConfig"]["speakingRate"] == 1.25
    assert speech.duration == pytest.approx(2.0 / 1.25, abs=1e-3)


def test_google_errors_are_tts_errors(fake_api):
    fake_api.fail_with = 429
    with pytest.raises(TtsError):
        google(fake_api).synthesize("hi", voice="en-US-Neural2-C")
