"""A local fake of the Gemini API's batchEmbedContents, served on 127.0.0.1, recording each request."""
from __future__ import annotations

from dataclasses import dataclass

from tests.contract.fake_http import FakeService, Reply, Request, error


def fake_vector(text: str, dims: int) -> list[float]:
    """A deterministic, deliberately unnormalised vector, so the adapter's normalisation shows."""
    return [float((ord(text[i % len(text)]) if text else 1) % 7 + 1) for i in range(dims)]


@dataclass
class FakeEmbedApi(FakeService):
    """`requests` keeps (path, body) tuples."""

    fail_with: int | None = None
    drop_one: bool = False

    def __post_init__(self) -> None:
        self.on("POST", "/", self._post)

    def record(self, request: Request) -> tuple[str, dict]:
        return (request.path, request.body or {})

    def _post(self, request: Request) -> Reply:
        body = request.body or {}
        if self.fail_with:
            return error(self.fail_with, "quota", "RESOURCE_EXHAUSTED")
        if not request.path.endswith(":batchEmbedContents"):
            return error(404, "no such route")
        embeddings = []
        for req in body.get("requests", []):
            text = req["content"]["parts"][0]["text"]
            dims = req.get("outputDimensionality") or req.get("output_dimensionality") or 3072
            embeddings.append({"values": fake_vector(text, dims)})
        if self.drop_one:
            embeddings = embeddings[:-1]
        return Reply(200, {"embeddings": embeddings})
