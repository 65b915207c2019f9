"""The speech-synthesis interface every TTS adapter implements, and its typed values."""
from __future__ import annotations

import io
import re
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


class TtsError(RuntimeError):
    """Synthesis failed: unknown voice, empty text, or the engine/service refused.

    `permanent` says whether trying again can help: a bad request stays bad; a timeout, a lost
    connection, a 5xx or 429 answer may pass next time."""

    def __init__(self, message: str, *, permanent: bool = True):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Voice:
    """One selectable voice. `id` is what `synthesize(voice=...)` takes."""

    id: str
    name: str
    language: str
    gender: str  # "female" | "male" | "neutral" | "" when the engine does not say
    provider: str


@dataclass(frozen=True)
class Synthesis:
    """Synthesized speech: a mono 16-bit PCM WAV file and its exact length."""

    audio: bytes
    sample_rate: int
    duration: float

    @classmethod
    def from_pcm(cls, pcm: bytes, sample_rate: int) -> Synthesis:
        """Wrap raw mono s16le samples; the duration comes from the sample count, so it is exact."""
        return cls(audio=pcm_to_wav(pcm, sample_rate), sample_rate=sample_rate, duration=len(pcm) / 2 / sample_rate)

    @classmethod
    def from_wav(cls, data: bytes) -> Synthesis:
        """Read a mono 16-bit WAV (as engines and caches hand it back)."""
        pcm, sample_rate = wav_to_pcm(data)
        return cls.from_pcm(pcm, sample_rate)

    @property
    def pcm(self) -> bytes:
        return wav_to_pcm(self.audio)[0]


@runtime_checkable
class TtsProvider(Protocol):
    """What the pipeline and the preview route need from a speech engine."""

    name: str

    def voices(self) -> Sequence[Voice]: ...

    def languages(self) -> Sequence[str]: ...

    def synthesize(self, text: str, *, voice: str, rate: float = 1.0) -> Synthesis: ...


def pcm_to_wav(pcm: bytes, sample_rate: int) -> bytes:
    """A WAV container around mono s16le samples."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buf.getvalue()


def wav_to_pcm(data: bytes) -> tuple[bytes, int]:
    """Samples and rate of a mono 16-bit WAV; anything else is a TtsError (callers mix mono speech)."""
    try:
        with wave.open(io.BytesIO(data), "rb") as src:
            if src.getnchannels() != 1 or src.getsampwidth() != 2:
                raise TtsError(f"expected mono 16-bit WAV, got {src.getnchannels()} ch / {8 * src.getsampwidth()} bit")
            return src.readframes(src.getnframes()), src.getframerate()
    except (wave.Error, EOFError) as exc:
        raise TtsError(f"not a WAV file: {exc}") from exc


def check_request(text: str, rate: float) -> str:
    """Shared argument checks: every engine rejects the same bad input the same way."""
    cleaned = text.strip()
    if not cleaned:
        raise TtsError("nothing to say: text is empty")
    if not 0.25 <= rate <= 4.0:
        raise TtsError(f"rate {rate} outside 0.25–4.0")
    return cleaned


def voice_for_language(voices: Sequence[Voice], language: str) -> Voice:
    """The best voice for a BCP-47 tag: exact match, else the same base language."""
    tag = language.lower()
    base = re.split(r"[-_]", tag)[0]
    by_id = {v.id.lower(): v for v in voices}
    if tag in by_id:
        return by_id[tag]
    if base in by_id:
        return by_id[base]
    # "fr" should find French (France), not whichever regional voice eSpeak lists first.
    if f"{base}-{base}" in by_id:
        return by_id[f"{base}-{base}"]
    for v in voices:
        if v.language.lower().startswith(base + "-"):
            return v
    raise TtsError(f"no voice for language {language!r}")
