"""GeminiTranscriber against a local fake of the Gemini API (generateContent)."""
import base64
import io
import json
import wave
from pathlib import Path

import numpy as np
import pytest
from google import genai
from google.genai import types

from avp.providers.asr.base import NO_SPEECH, AsrError
from avp.providers.asr.gemini import GeminiTranscriber, parse_answer
from tests.contract.fake_http import Reply, replies

GENERATE = "/v1/models/gemini-2.5-flash:generateContent"
WORDS = [{"text": "ask", "start": 0.9, "end": 1.2}, {"text": "Hello,", "start": 0.1, "end": 0.5, "speaker": "A"}]


def _answer(payload: object) -> Reply:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return Reply(200, {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}]})


def _error(status: int, grpc_status: str) -> Reply:
    return Reply(status, {"error": {"code": status, "message": f"fake {grpc_status}", "status": grpc_status}})


@pytest.fixture
def audio(tmp_path) -> Path:
    path = tmp_path / "tone.wav"
    t = np.arange(32_000) / 16_000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16_000)
        out.writeframes((0.2 * np.sin(2 * np.pi * 300 * t) * 32767).astype("<i2").tobytes())
    return path


def _transcriber(fake, **options) -> GeminiTranscriber:
    client = genai.Client(api_key="test", http_options=types.HttpOptions(base_url=fake.url))
    return GeminiTranscriber(client, **{"sleep": lambda _: None, **options})


def test_request_shape_and_response_parsing(fake, audio):
    fake.on("POST", GENERATE, replies(_answer({"language": "en", "words": WORDS})))
    transcript = _transcriber(fake).transcribe(audio, language="en")

    request = fake.requests[0]
    assert request.headers["x-goog-api-key"] == "test"
    parts = request.body["contents"][0]["parts"]
    inline = parts[0]["inlineData"]
    assert inline["mime_type"] == "audio/wav"
    with wave.open(io.BytesIO(base64.b64decode(inline["data"]))) as sent:
        assert (sent.getframerate(), sent.getnchannels(), sent.getnframes()) == (16_000, 1, 32_000)
    assert "The language is en." in parts[1]["text"]
    generation = request.body["generationConfig"]
    assert generation["responseMimeType"] == "application/json"
    assert generation["responseSchema"]["required"] == ["language", "words"]
    assert generation["temperature"] == 0.0

    assert [(w.text, w.start, w.end, w.speaker) for w in transcript.words] == [
        ("Hello,", 0.1, 0.5, "A"), ("ask", 0.9, 1.2, None)]
    assert (transcript.language, transcript.language_probability, transcript.duration) == ("en", 1.0, 2.0)


def test_detected_language_and_no_speech(fake, audio):
    fake.on("POST", GENERATE, replies(_answer({"language": "FR", "words": []})))
    transcript = _transcriber(fake).transcribe(audio)
    assert "Name the language" in fake.requests[0].body["contents"][0]["parts"][1]["text"]
    assert transcript.language == "fr" and transcript.words == [] and NO_SPEECH in transcript.notes


@pytest.mark.parametrize("status, grpc_status", [(400, "INVALID_ARGUMENT"), (403, "PERMISSION_DENIED"), (404, "NOT_FOUND")])
def test_client_errors_are_permanent_and_not_retried(fake, audio, status, grpc_status):
    fake.on("POST", GENERATE, replies(_error(status, grpc_status)))
    with pytest.raises(AsrError) as caught:
        _transcriber(fake).transcribe(audio, language="en")
    assert caught.value.permanent and str(status) in str(caught.value)
    assert len(fake.requests) == 1


def test_rate_limits_and_server_errors_are_retried(fake, audio):
    waits: list[float] = []
    fake.on("POST", GENERATE, replies(_error(429, "RESOURCE_EXHAUSTED"), _error(503, "UNAVAILABLE"),
                                      _answer({"language": "en", "words": WORDS})))
    transcript = _transcriber(fake, backoff=0.25, sleep=waits.append).transcribe(audio, language="en")
    assert len(transcript.words) == 2 and waits == [0.25, 0.5] and len(fake.requests) == 3


def test_persistent_server_error_is_transient(fake, audio):
    fake.on("POST", GENERATE, replies(_error(500, "INTERNAL")))
    with pytest.raises(AsrError) as caught:
        _transcriber(fake, attempts=2).transcribe(audio, language="en")
    assert not caught.value.permanent and len(fake.requests) == 2


def test_malformed_answer_is_asked_again_then_fails_as_transient(fake, audio):
    fake.on("POST", GENERATE, replies(_answer("not json"), _answer({"language": "en", "words": WORDS})))
    assert len(_transcriber(fake).transcribe(audio, language="en").words) == 2

    fake.on("POST", GENERATE, replies(_answer({"language": "en", "words": [{"text": "late", "start": 9.0, "end": 9.5}]})))
    with pytest.raises(AsrError, match="outside") as caught:
        _transcriber(fake, attempts=1).transcribe(audio, language="en")
    assert not caught.value.permanent


def test_slow_answer_times_out(fake, audio):
    fake.on("POST", GENERATE, replies(Reply(200, {}, delay=2.0)))
    with pytest.raises(AsrError, match="did not answer") as caught:
        _transcriber(fake, timeout=0.3, attempts=1).transcribe(audio, language="en")
    assert not caught.value.permanent


@pytest.mark.parametrize("text", [
    '{"words": []}',                                                           # no language
    '{"language": "en", "words": {"text": "a"}}',                              # words not a list
    '{"language": "en", "words": [{"text": "a", "start": 1.0, "end": 0.5}]}',  # ends before it starts
    '{"language": "en", "words": [{"text": "a", "start": "x", "end": 1}]}',    # not a number
])
def test_parse_answer_rejects_invalid_transcripts(text):
    with pytest.raises(AsrError):
        parse_answer(text, duration=2.0)
