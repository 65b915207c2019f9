"""Local fakes of the two cloud TTS HTTP APIs, served on 127.0.0.1, recording each request."""
from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

from avp.providers.tts.base import pcm_to_wav
from tests.contract.fake_http import FakeService, Reply, Request, error

VOICES = [
    {"languageCodes": ["en-US"], "name": "en-US-Neural2-C", "ssmlGender": "FEMALE", "naturalSampleRateHertz": 24000},
    {"languageCodes": ["de-DE"], "name": "de-DE-Neural2-B", "ssmlGender": "MALE", "naturalSampleRateHertz": 24000},
]  # fmt: skip


def speech_pcm(seconds: float, rate: int) -> bytes:
    t = np.arange(round(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes()


@dataclass
class FakeTtsApi(FakeService):
    """Gemini generateContent (audio) and Cloud TTS v1 REST: voices + text:synthesize.
    `requests` keeps (method, path, body) tuples."""

    fail_with: int | None = None

    def __post_init__(self) -> None:
        self.on("POST", "/", self._post)
        self.on("GET", "/v1/voices", lambda _: Reply(200, {"voices": VOICES}))

    def record(self, request: Request) -> tuple[str, str, dict]:
        return (request.method, request.path, request.body or {})

    def _post(self, request: Request) -> Reply:
        body = request.body or {}
        if self.fail_with:
            return error(self.fail_with, "quota", "RESOURCE_EXHAUSTED")
        if request.path.endswith(":generateContent"):
            pcm = speech_pcm(1.5, 24000)  # Gemini answers raw 24 kHz PCM, base64 in JSON
            part = {"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": base64.b64encode(pcm).decode()}}
            return Reply(200, {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP"}]})
        if request.path == "/v1/text:synthesize":
            rate = body.get("audioConfig", {}).get("speakingRate", 1.0)
            wav = pcm_to_wav(speech_pcm(2.0 / rate, 24000), 24000)  # LINEAR16 comes with a WAV header
            return Reply(200, {"audioContent": base64.b64encode(wav).decode()})
        return error(404, "no such route")
