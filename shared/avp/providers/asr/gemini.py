"""Speech transcription with Gemini (google-genai): the audio goes in, JSON words with times come
out under a response schema, and the answer is validated before anyone relies on it."""
from __future__ import annotations

import io
import json
import wave
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from avp.captions.model import Word
from avp.providers.asr.audio import SAMPLE_RATE, load_audio
from avp.providers.asr.base import NO_SPEECH, AsrError, Transcript
from avp.providers.retry import HTTP_TIMEOUTS, HTTP_TRANSPORT_ERRORS, error_for_status, with_retries

if TYPE_CHECKING:
    from google import genai

PROVIDER = "gemini"
# Inline request data is capped at 20 MB by the API: about ten minutes of 16 kHz 16-bit audio.
MAX_INLINE_BYTES = 20 * 1024 * 1024
_TIME_SLACK = 0.5  # seconds a word may overrun the audio before the answer is judged invalid

RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "OBJECT",
    "properties": {
        "language": {"type": "STRING", "description": "ISO 639-1 code of the spoken language"},
        "words": {
            "type": "ARRAY",
            "items": {
                "type": "OBJECT",
                "properties": {
                    "text": {"type": "STRING"},
                    "start": {"type": "NUMBER", "description": "seconds from the start of the audio"},
                    "end": {"type": "NUMBER", "description": "seconds from the start of the audio"},
                    "speaker": {"type": "STRING"},
                },
                "required": ["text", "start", "end"],
            },
        },
    },
    "required": ["language", "words"],
}

PROMPT = (
    "Transcribe the speech in this audio verbatim, word by word, with punctuation attached to "
    "the words. Give each word's start and end time in seconds from the start of the audio, and "
    "a speaker label when several people speak. Return an empty word list if there is no speech "
    "(music, noise or silence): never invent words."
)


def default_client() -> genai.Client:
    """A client configured from the environment (GOOGLE_API_KEY, or Vertex AI settings)."""
    from google import genai

    return genai.Client()


class GeminiTranscriber:
    """`Transcriber` backed by a Gemini model with structured (JSON) output."""

    def __init__(self, client: genai.Client | None = None, *, model: str = "gemini-2.5-flash",
                 timeout: float = 300.0, attempts: int = 3, backoff: float = 2.0,
                 sleep: Callable[[float], None] | None = None):
        self._client = client
        self.model = model
        self.timeout = timeout
        self._retry_options: dict[str, Any] = {"attempts": attempts, "backoff": backoff}
        if sleep is not None:
            self._retry_options["sleep"] = sleep

    @property
    def client(self) -> genai.Client:
        if self._client is None:
            self._client = default_client()
        return self._client

    def transcribe(self, audio_path: Path, *, language: str | None = None) -> Transcript:
        """Send `audio_path` (as 16 kHz mono WAV) to Gemini and return its validated words."""
        samples = load_audio(audio_path)
        duration = len(samples) / SAMPLE_RATE
        audio = _wav_bytes(samples)
        if len(audio) > MAX_INLINE_BYTES:
            raise AsrError(f"{audio_path.name} is too long for an inline Gemini request "
                           f"({len(audio) // 2**20} MB > {MAX_INLINE_BYTES // 2**20} MB)", permanent=True)
        detected, words = with_retries(lambda: parse_answer(self._generate(audio, language), duration),
                                       **self._retry_options)
        notes = [] if language else ["language named by the model; it gives no probability"]
        if not words:
            notes.append(NO_SPEECH)
        return Transcript(language or detected, 1.0 if language else 0.0, words, duration, PROVIDER, notes)

    def _generate(self, audio: bytes, language: str | None) -> str:
        from google.genai import errors, types

        timeouts, transport_errors = HTTP_TIMEOUTS, HTTP_TRANSPORT_ERRORS

        prompt = PROMPT + (f" The language is {language}." if language else " Name the language you hear.")
        config = types.GenerateContentConfig(
            response_mime_type="application/json",
            response_schema=RESPONSE_SCHEMA,
            temperature=0.0,
            http_options=types.HttpOptions(timeout=int(self.timeout * 1000)),
        )
        contents = [types.Part.from_bytes(data=audio, mime_type="audio/wav"), prompt]
        try:
            response = self.client.models.generate_content(model=self.model, contents=contents, config=config)
        except errors.APIError as exc:
            raise error_for_status(exc.code, f"Gemini refused the request: {exc.message}", AsrError, exc.details) from exc
        except timeouts as exc:
            raise AsrError(f"Gemini did not answer within {self.timeout:g} s", permanent=False) from exc
        except transport_errors as exc:
            raise AsrError(f"Gemini unreachable: {exc}", permanent=False) from exc
        if not response.text:
            reason = response.candidates[0].finish_reason if response.candidates else "no candidates"
            raise AsrError(f"Gemini returned no transcript ({reason})", permanent=False)
        return response.text


def parse_answer(text: str, duration: float) -> tuple[str, list[Word]]:
    """The language and words of a Gemini JSON answer, checked: well-formed, times inside the
    audio, each word ending after it starts. A malformed answer is a transient error, since
    asking again usually gives a good one."""
    try:
        data = json.loads(text)
        language = str(data["language"]).strip().lower()
        items = data["words"]
        if not isinstance(items, list):
            raise TypeError("words is not a list")
        words = [_word(item, duration) for item in items if str(item.get("text", "")).strip()]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AsrError(f"Gemini answer is not a valid transcript: {exc}", permanent=False) from exc
    return language, sorted(words, key=lambda w: (w.start, w.end))


def _word(item: dict[str, Any], duration: float) -> Word:
    start, end = float(item["start"]), float(item["end"])
    if not (0.0 <= start <= end <= duration + _TIME_SLACK):
        raise ValueError(f"word {item['text']!r} at {start}-{end} s lies outside the {duration:.2f} s audio")
    speaker = item.get("speaker")
    return Word(text=str(item["text"]).strip(), start=start, end=min(end, duration),
                speaker=str(speaker) if speaker else None)


def _wav_bytes(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes((np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()
