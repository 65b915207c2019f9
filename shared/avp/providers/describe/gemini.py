"""Descriptions written by Gemini (google-genai) from keyframes, the transcript and the dialogue gaps."""
from __future__ import annotations

import json

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from avp.providers.describe.base import (
    PRIORITY_ESSENTIAL,
    PRIORITY_OPTIONAL,
    DescribeError,
    DescribeInput,
    Description,
)
from avp.providers.retry import HTTP_ERRORS, error_for_status

DEFAULT_MODEL = "gemini-2.5-flash"

# The audio-description rules of docs/STANDARDS.md (WCAG 2.2 1.2.3/1.2.5/1.2.7 practice), as instructions.
RULES = """You write audio description for blind and low-vision viewers of a video.
Rules:
- Describe only what is on screen that the soundtrack does not tell: actions, scene changes,
  settings, people's appearance and expressions, and who is speaking when that is unclear.
- Read out on-screen text (titles, signs, captions, names). Skip clocks or counters that merely run.
- Never speak over dialogue: set each description's start inside one of the dialogue gaps listed,
  and keep it short enough to be spoken in that gap at about 160-190 words per minute.
  Gaps shorter than about 2 seconds are not usable.
- Present tense, third person, plain words; describe, do not interpret or guess at what cannot be seen.
- Never put a whole description in square brackets: bracketed text is a note to the describer and is not spoken.
- priority: 1 essential to follow the story, 2 useful, 3 optional detail."""


class GeminiDescriber:
    """Describer over a Gemini model with a JSON response schema."""

    name = "gemini"

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None, model: str = DEFAULT_MODEL):
        self._client = genai.Client(
            api_key=api_key, http_options=types.HttpOptions(base_url=base_url) if base_url else None
        )
        self._model = model

    def describe(self, material: DescribeInput) -> list[Description]:
        """Ask the model for descriptions and keep the well-formed ones inside the video."""
        config = types.GenerateContentConfig(
            system_instruction=RULES,
            response_mime_type="application/json",
            response_schema=_response_schema(),
            temperature=0.2,
        )
        try:
            response = self._client.models.generate_content(
                model=self._model, contents=build_contents(material), config=config
            )
            items = json.loads(response.text or "")
        except genai_errors.APIError as exc:
            raise error_for_status(exc.code, f"Gemini describe failed: {exc.message}", DescribeError, exc.details) from exc
        except HTTP_ERRORS as exc:
            raise DescribeError(f"Gemini unreachable: {exc}", permanent=False) from exc
        except json.JSONDecodeError as exc:
            raise DescribeError(f"Gemini answered without JSON: {exc}", permanent=False) from exc
        if not isinstance(items, list):
            raise DescribeError("Gemini answered with something other than a list", permanent=False)
        return _descriptions(items, material.duration)


def build_contents(material: DescribeInput) -> list[str | types.Part]:
    """The user turn: the material as text, then each keyframe labelled with its time."""
    transcript = "\n".join(f"[{c.start:.2f}-{c.end:.2f}] {c.text}" for c in material.transcript) or "(no dialogue)"
    gaps = ", ".join(f"{g.start:.2f}-{g.end:.2f}" for g in material.gaps) or "(none: the video pauses for each description)"
    shots = "\n".join(
        f"shot {s.start:.2f}-{s.end:.2f}" + (f", on-screen text: {s.text!r}" if s.text else "") for s in material.shots
    )
    brief = (
        f"Video length: {material.duration:.2f} s. Write in language: {material.language}.\n"
        f"Dialogue transcript:\n{transcript}\n\nDialogue gaps (seconds): {gaps}\n\n"
        f"Shots:\n{shots or '(not detected)'}\n\n"
        "Return a JSON list of {start, text, priority}. Keyframes follow."
    )
    parts: list[str | types.Part] = [brief]
    for frame in material.keyframes:
        parts.append(f"Frame at {frame.time:.2f} s:")
        parts.append(types.Part.from_bytes(data=frame.jpeg, mime_type="image/jpeg"))
    return parts


def _response_schema() -> types.Schema:
    schema, kind = types.Schema, types.Type
    item = schema(
        type=kind.OBJECT,
        properties={
            "start": schema(type=kind.NUMBER, description="seconds from the start of the video"),
            "text": schema(type=kind.STRING),
            "priority": schema(type=kind.INTEGER, description="1 essential, 2 useful, 3 optional"),
        },
        required=["start", "text", "priority"],
    )
    return schema(type=kind.ARRAY, items=item)


def _descriptions(items: list[object], duration: float) -> list[Description]:
    """Model output is untrusted: drop items without text or outside the video, clamp priority."""
    kept = []
    for item in items:
        if not isinstance(item, dict):
            continue
        text = str(item.get("text", "")).strip()
        try:
            start = float(item["start"])
            priority = int(item.get("priority", PRIORITY_OPTIONAL))
        except (KeyError, TypeError, ValueError):
            continue
        if not text or not 0.0 <= start < duration:
            continue
        priority = min(max(priority, PRIORITY_ESSENTIAL), PRIORITY_OPTIONAL)
        kept.append(Description(start_target=start, text=text, priority=priority, draft=False, source="gemini"))
    return sorted(kept, key=lambda d: d.start_target)
