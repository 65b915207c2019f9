"""A local fake of Gemini generateContent answering with a programmed JSON text, on 127.0.0.1."""
from __future__ import annotations

from dataclasses import dataclass

from tests.contract.fake_http import FakeService, Reply, Request


@dataclass
class FakeGeminiText(FakeService):
    """Records each request as (path, body); answers `answer` as the model's text part."""

    answer: str = "[]"

    def __post_init__(self) -> None:
        self.on("POST", "/", self._post)

    def record(self, request: Request) -> tuple[str, dict]:
        return (request.path, request.body)

    def _post(self, _: Request) -> Reply:
        return Reply(200, {"candidates": [{"content": {"role": "model", "parts": [{"text": self.answer}]}, "finishReason": "STOP"}]})
