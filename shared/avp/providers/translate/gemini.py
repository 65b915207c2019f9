"""Cue translation with Gemini (google-genai): one structured-JSON request per batch of cues, the
answer a list of exactly as many strings, checked before anyone relies on it."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from avp.providers.retry import HTTP_ERRORS, error_for_status, with_retries
from avp.providers.translate.base import TranslateError

T = TypeVar("T")
DEFAULT_MODEL = "gemini-2.5-flash"
# Small batches keep each answer short (fewer truncated or miscounted lists) and give the model
# the neighbouring cues as context.
BATCH_CUES = 40
BATCH_CHARS = 6000

RULES = """You translate the cues of a video's captions or audio description.
Rules:
- You get a JSON list of strings; answer a JSON list with exactly as many strings, the translation
  of each item at the same position. Never merge, split, drop or reorder items.
- Keep every markup tag exactly as written around the translated words: <i>, </i>, <b>, <u>,
  <c.class>, <v Speaker>, <lang xx>, <ruby>, timestamps such as <00:01:02.500>; keep entities
  such as &amp; &lt; &gt; &nbsp;. Speaker names inside <v ...> are not translated.
- Keep the line breaks (\\n) of each item: the same number of lines, split where the meaning allows.
- Captions are read quickly: translate concisely and naturally, not word for word.
- When a glossary is given, use its target term for each source term it lists."""


class GeminiTranslator:
    """`Translator` over a Gemini model with a JSON response schema."""

    name = "gemini"

    def __init__(self, *, api_key: str, base_url: str | None = None, model: str = DEFAULT_MODEL,
                 timeout: float = 120.0, attempts: int = 3, backoff: float = 2.0,
                 sleep: Callable[[float], None] | None = None):
        self._client = genai.Client(
            api_key=api_key, http_options=types.HttpOptions(base_url=base_url, timeout=int(timeout * 1000))
        )
        self.model = model
        self._retry_options: dict[str, Any] = {"attempts": attempts, "backoff": backoff}
        if sleep is not None:
            self._retry_options["sleep"] = sleep

    def translate(self, texts: list[str], *, source: str, target: str,
                  glossary: dict[str, str] | None = None) -> list[str]:
        """Translate `texts` batch by batch; blank texts stay as they are and are not sent."""
        translated = list(texts)
        for batch in _batches([i for i, text in enumerate(texts) if text.strip()], texts):
            items = [texts[i] for i in batch]
            prompt = build_prompt(items, source=source, target=target, glossary=_relevant(glossary or {}, items))
            answer = self._retrying(lambda: parse_answer(self._generate(prompt, len(items)), len(items)))
            for index, text in zip(batch, answer):
                translated[index] = text
        return translated

    def _retrying(self, call: Callable[[], T]) -> T:
        return with_retries(call, **self._retry_options)

    def _generate(self, prompt: str, count: int) -> str:
        config = types.GenerateContentConfig(
            system_instruction=RULES,
            response_mime_type="application/json",
            response_schema=_response_schema(count),
            temperature=0.0,
        )
        try:
            response = self._client.models.generate_content(model=self.model, contents=prompt, config=config)
        except genai_errors.APIError as exc:
            raise error_for_status(exc.code, f"Gemini refused the translation request: {exc.message}",
                                   TranslateError, exc.details) from exc
        except HTTP_ERRORS as exc:  # timeouts and connection failures
            raise TranslateError(f"Gemini unreachable: {exc}", permanent=False) from exc
        if not response.text:
            reason = response.candidates[0].finish_reason if response.candidates else "no candidates"
            raise TranslateError(f"Gemini returned no translation ({reason})", permanent=False)
        return response.text


def build_prompt(items: list[str], *, source: str, target: str, glossary: dict[str, str]) -> str:
    """The user turn: the language pair, the glossary terms that occur in `items`, then the items."""
    lines = [f"Translate from language {source} into language {target} (BCP 47 tags)."]
    if glossary:
        lines.append("Glossary (source term => required target term):")
        lines += [f"- {json.dumps(term, ensure_ascii=False)} => {json.dumps(wanted, ensure_ascii=False)}"
                  for term, wanted in glossary.items()]
    lines.append(f"Items ({len(items)}):")
    lines.append(json.dumps(items, ensure_ascii=False, indent=0))
    return "\n".join(lines)


def parse_answer(text: str, expected: int) -> list[str]:
    """The translated strings of a Gemini JSON answer, checked: a list of `expected` strings. A
    malformed or miscounted answer is a transient error, since asking again usually gives a good one."""
    try:
        items = json.loads(text)
    except ValueError as exc:
        raise TranslateError(f"Gemini answered without JSON: {exc}", permanent=False) from exc
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise TranslateError("Gemini answered with something other than a list of strings", permanent=False)
    if len(items) != expected:
        raise TranslateError(f"Gemini returned {len(items)} translations for {expected} cues", permanent=False)
    return items


def _relevant(glossary: dict[str, str], items: list[str]) -> dict[str, str]:
    """Only the terms that occur in the batch: a glossary may hold thousands."""
    text = "\n".join(items).casefold()
    return {term: wanted for term, wanted in glossary.items() if term.casefold() in text}


def _batches(indexes: list[int], texts: list[str]) -> Iterator[list[int]]:
    batch: list[int] = []
    size = 0
    for index in indexes:
        if batch and (len(batch) == BATCH_CUES or size + len(texts[index]) > BATCH_CHARS):
            yield batch
            batch, size = [], 0
        batch.append(index)
        size += len(texts[index])
    if batch:
        yield batch


def _response_schema(count: int) -> types.Schema:
    return types.Schema(type=types.Type.ARRAY, items=types.Schema(type=types.Type.STRING),
                        min_items=count, max_items=count)
