"""The speech-to-text interface every recognizer adapter implements, and the factory that picks one."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from avp.captions.model import Word
from avp.providers.retry import ProviderError

NO_SPEECH = "no speech found"
PROVIDERS = ("whisper", "video_intelligence", "gemini")


class AsrError(ProviderError):
    """Recognition failed. `permanent` tells the pipeline whether a retry can help
    (bad input, rejected request) or not (service busy, timeout)."""


@dataclass
class Transcript:
    """What a recognizer heard: timed words in media time, plus what it could tell about the language."""

    language: str
    language_probability: float
    words: list[Word]
    duration: float
    provider: str
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)


class Transcriber(Protocol):
    def transcribe(self, audio_path: Path, *, language: str | None = None) -> Transcript:
        """Recognise the speech in `audio_path`; `language` (e.g. "en") skips detection when the job knows it."""
        ...


def get_transcriber(name: str, **options: Any) -> Transcriber:
    """Build the recognizer called `name` ("whisper", "video_intelligence" or "gemini"; the earlier
    names "local" and "video-intelligence" still work).

    `options` go to that adapter's constructor (settings for "whisper", an injected client and
    its settings for the cloud adapters). Adapters are imported here, lazily, so that a
    deployment using one provider never imports the others' heavy libraries.
    """
    if name in ("whisper", "local"):
        from avp.providers.asr.local import LocalSettings, LocalTranscriber

        return LocalTranscriber(LocalSettings(**options))
    if name in ("video_intelligence", "video-intelligence"):
        from avp.providers.asr.video_intelligence import VideoIntelligenceTranscriber

        return VideoIntelligenceTranscriber(**options)
    if name == "gemini":
        from avp.providers.asr.gemini import GeminiTranscriber

        return GeminiTranscriber(**options)
    raise ValueError(f"unknown speech-to-text provider {name!r}; expected one of {', '.join(PROVIDERS)}")
