"""Voice previews are asked for again and again with the same words: keep each synthesis once."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from avp.providers.tts.base import Synthesis, TtsProvider


def preview_key(provider: str, voice: str, rate: float, text: str) -> str:
    """sha256 over the four inputs that decide the audio (JSON-encoded so fields cannot run together)."""
    payload = json.dumps([provider, voice, round(rate, 4), text], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class PreviewCache:
    """A folder of `<key>.wav` files; writes are atomic so concurrent previews never read half a file."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def synthesize(self, tts: TtsProvider, text: str, *, voice: str, rate: float = 1.0) -> Synthesis:
        """Return the cached synthesis of these inputs, synthesizing (and storing) it on a miss."""
        path = self.directory / f"{preview_key(tts.name, voice, rate, text)}.wav"
        if path.exists():
            return Synthesis.from_wav(path.read_bytes())
        speech = tts.synthesize(text, voice=voice, rate=rate)
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(speech.audio)
        os.replace(tmp, path)
        return speech
