"""Local fakes of the two cloud TTS HTTP APIs, served on 127.0.0.1, recording each request."""
from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from avp.providers.tts.base import pcm_to_wav


def speech_pcm(seconds: float, rate: int) -> bytes:
    t = np.arange(round(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes()


class FakeTtsApi:
    """Gemini generateContent (audio) and Cloud TTS v1 REST: voices + text:synthesize."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict]] = []
        self.fail_with: int | None = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                api.requests.append(("GET", self.path, {}))
                if self.path.startswith("/v1/voices"):
                    self._reply(200, {"voices": [
                        {"languageCodes": ["en-US"], "name": "en-US-Neural2-C", "ssmlGender": "FEMALE", "naturalSampleRateHertz": 24000},
                        {"languageCodes": ["de-DE"], "name": "de-DE-Neural2-B", "ssmlGender": "MALE", "naturalSampleRateHertz": 24000},
                    ]})  # fmt: skip
                else:
                    self._reply(404, {"error": {"code": 404, "message": "no such route"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                api.requests.append(("POST", self.path, body))
                if api.fail_with:
                    self._reply(api.fail_with, {"error": {"code": api.fail_with, "message": "quota", "status": "RESOURCE_EXHAUSTED"}})
                elif self.path.endswith(":generateContent"):
                    pcm = speech_pcm(1.5, 24000)  # Gemini answers raw 24 kHz PCM, base64 in JSON
                    part = {"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": base64.b64encode(pcm).decode()}}
                    self._reply(200, {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP"}]})
                elif self.path == "/v1/text:synthesize":
                    rate = body.get("audioConfig", {}).get("speakingRate", 1.0)
                    wav = pcm_to_wav(speech_pcm(2.0 / rate, 24000), 24000)  # LINEAR16 comes with a WAV header
                    self._reply(200, {"audioContent": base64.b64encode(wav).decode()})
                else:
                    self._reply(404, {"error": {"code": 404, "message": "no such route"}})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
