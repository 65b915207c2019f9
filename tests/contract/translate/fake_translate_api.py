"""A local fake of Gemini generateContent for translation, on 127.0.0.1: by default it answers
each item of the prompt's JSON list with `prefix` + the item; `script` overrides replies in turn."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from tests.contract.fake_http import FakeService, Reply, Request


def model_text(text: str) -> Reply:
    """A generateContent reply whose model text is `text`."""
    return Reply(200, {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}]})


def prompt_items(body: dict) -> list[str]:
    """The JSON list of cue texts at the end of the prompt the adapter sent."""
    prompt = body["contents"][0]["parts"][0]["text"]
    return json.loads(prompt[prompt.index("\n[") + 1:])


@dataclass
class FakeGeminiTranslate(FakeService):
    """Records each request as (path, body)."""

    prefix: str = "FR:"
    script: list[Reply] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.on("POST", "/", self._post)

    def record(self, request: Request) -> tuple[str, dict]:
        return (request.path, request.body)

    def _post(self, request: Request) -> Reply:
        if self.script:
            return self.script.pop(0)
        return model_text(json.dumps([self.prefix + item for item in prompt_items(request.body)], ensure_ascii=False))
