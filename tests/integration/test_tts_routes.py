"""TTS routes through the gateway, with the real offline provider (eSpeak NG) and ffmpeg."""
import io
import wave

import pytest

from tests.helpers import API, bearer, token_for


@pytest.fixture
def h(client, container):
    return bearer(token_for(client, container, "linguist")[0])


def test_voices_languages_options(client, h):
    voices = client.get(f"{API}/tts/voices", headers=h)
    assert voices.status_code == 200
    items = voices.json["items"]
    assert items and {v["provider"] for v in items} == {"espeak"}  # no cloud credentials here
    english = client.get(f"{API}/tts/voices?language=en", headers=h).json["items"]
    assert english and all(any(lang.lower().startswith("en") for lang in v["languages"]) for v in english)
    assert len(english) < len(items)
    assert client.get(f"{API}/tts/voices?language=!!", headers=h).status_code == 422
    unconfigured = client.get(f"{API}/tts/voices?provider=gemini", headers=h)
    assert unconfigured.status_code == 503 and "GEMINI_API_KEY" in unconfigured.json["detail"]

    langs = {entry["code"]: entry for entry in client.get(f"{API}/tts/languages", headers=h).json["items"]}
    assert langs["de"]["providers"] == ["espeak"] and langs["de"]["name"]

    options = client.get(f"{API}/tts/options", headers=h).json
    by_id = {p["id"]: p for p in options["providers"]}
    assert by_id["espeak"]["available"] and by_id["espeak"]["offline"]
    assert not by_id["gemini"]["available"] and "GEMINI_API_KEY" in by_id["gemini"]["unavailable_reason"]
    assert options["default"]["provider"] == "espeak" and "netflix-en" in options["style_presets"]
    assert client.get(f"{API}/tts/options").status_code == 401


@pytest.mark.slow
def test_preview_wav_mp3_cache_and_errors(client, h, container):
    body = {"voice": "en-us", "language": "en-US", "text": "A door opens onto the harbour.", "format": "wav"}
    wav = client.post(f"{API}/tts/preview", json=body, headers=h)
    assert wav.status_code == 200 and wav.mimetype == "audio/wav"
    with wave.open(io.BytesIO(wav.data)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 1.0 < seconds < 4.0 and float(wav.headers["X-Audio-Duration"]) == pytest.approx(seconds, abs=0.01)
    cached = list((container.data_dir / "tts-preview").glob("*.wav"))
    assert len(cached) == 1
    again = client.post(f"{API}/tts/preview", json=body, headers=h)
    assert again.data == wav.data and len(list((container.data_dir / "tts-preview").glob("*.wav"))) == 1

    assert client.post(f"{API}/tts/preview", json={**body, "format": "ogg"}, headers=h).status_code == 422
    assert client.post(f"{API}/tts/preview", json={**body, "rate": 3}, headers=h).status_code == 422
    mp3 = client.post(f"{API}/tts/preview", json={k: v for k, v in body.items() if k != "format"}, headers=h)
    assert mp3.status_code == 200 and mp3.mimetype == "audio/mpeg"
    assert mp3.data[:3] == b"ID3" or mp3.data[0] == 0xFF
    by_accept = client.post(f"{API}/tts/preview", json={k: v for k, v in body.items() if k != "format"},
                            headers={**h, "Accept": "audio/wav"})
    assert by_accept.mimetype == "audio/wav"

    assert client.post(f"{API}/tts/preview", json={**body, "voice": "nope"}, headers=h).status_code == 404
    assert client.post(f"{API}/tts/preview", json={**body, "language": "de"}, headers=h).status_code == 422
    assert client.post(f"{API}/tts/preview", json={**body, "text": "x" * 501}, headers=h).status_code == 422
    assert client.post(f"{API}/tts/preview", json={**body, "provider": "gemini"}, headers=h).status_code == 503


def test_preview_rate_limit(client, container):
    token, _ = token_for(client, container, "client")
    h = bearer(token)
    body = {"voice": "nope", "language": "en", "text": "hi"}
    # Unknown voices answer 404, but each request still counts against the limit.
    statuses = [client.post(f"{API}/tts/preview", json=body, headers=h).status_code for _ in range(20)]
    assert statuses == [404] * 20
    limited = client.post(f"{API}/tts/preview", json=body, headers=h)
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    other = bearer(token_for(client, container, "client")[0])
    assert client.post(f"{API}/tts/preview", json=body, headers=other).status_code == 404  # per user
