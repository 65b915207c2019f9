"""A local fake of the Gemini API's batchEmbedContents, served on 127.0.0.1, recording each request."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def fake_vector(text: str, dims: int) -> list[float]:
    """A deterministic, deliberately unnormalised vector, so the adapter's normalisation shows."""
    return [float((ord(text[i % len(text)]) if text else 1) % 7 + 1) for i in range(dims)]


class FakeEmbedApi:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.fail_with: int | None = None
        self.drop_one = False
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                api.requests.append((self.path, body))
                if api.fail_with:
                    self._reply(api.fail_with, {"error": {"code": api.fail_with, "message": "quota", "status": "RESOURCE_EXHAUSTED"}})
                elif self.path.endswith(":batchEmbedContents"):
                    embeddings = []
                    for req in body.get("requests", []):
                        text = req["content"]["parts"][0]["text"]
                        dims = req.get("outputDimensionality") or req.get("output_dimensionality") or 3072
                        embeddings.append({"values": fake_vector(text, dims)})
                    if api.drop_one:
                        embeddings = embeddings[:-1]
                    self._reply(200, {"embeddings": embeddings})
                else:
                    self._reply(404, {"error": {"code": 404, "message": "no such route"}})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
