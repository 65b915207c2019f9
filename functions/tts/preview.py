"""Voice previews: a per-user rate limit, the synthesis cache, and MP3 encoding of cached WAVs."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from avp.domain import throttle
from avp.domain.ports import Database
from avp.media.ffmpeg import run
from avp.providers.tts import TtsProvider
from avp.providers.tts.cache import PreviewCache, preview_key

LIMIT_PER_MINUTE = 20
WINDOW_SECONDS = 60.0
MAX_TEXT_CHARS = 500


@dataclass(frozen=True)
class Audio:
    data: bytes
    media_type: str
    duration: float


def take_token(store: Database, user_id: str, *, limit: int = LIMIT_PER_MINUTE, window: float = WINDOW_SECONDS) -> None:
    """Count one preview for `user_id`, or 429 with Retry-After when `limit` were made in the last
    `window` seconds (a sliding window every function instance shares)."""
    throttle.take(store, f"tts-preview:{user_id}", limit, window, "previews")


def _encode_mp3(wav: bytes, target: Path) -> bytes:
    if target.exists():
        return target.read_bytes()
    with tempfile.TemporaryDirectory(prefix="avp-preview-") as tmp:
        src, out = Path(tmp) / "in.wav", Path(tmp) / "out.mp3"
        src.write_bytes(wav)
        run(["-i", src, "-codec:a", "libmp3lame", "-q:a", "4", "-y", out], timeout=60)
        data = out.read_bytes()
    fd, part = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(part, target)  # atomic, like the WAV cache: a concurrent reader never sees half a file
    return data


def render(cache_dir: Path, tts: TtsProvider, text: str, *, voice: str, rate: float, fmt: str) -> Audio:
    """The preview as WAV or MP3, each synthesized (and encoded) once per text, voice and rate."""
    speech = PreviewCache(cache_dir).synthesize(tts, text, voice=voice, rate=rate)
    if fmt == "wav":
        return Audio(speech.audio, "audio/wav", speech.duration)
    mp3 = _encode_mp3(speech.audio, cache_dir / f"{preview_key(tts.name, voice, rate, text)}.mp3")
    return Audio(mp3, "audio/mpeg", speech.duration)
