"""Tempo change for engines without a native speaking-rate control."""
from __future__ import annotations

import tempfile
from pathlib import Path

from avp.media.ffmpeg import run
from avp.providers.tts.base import Synthesis


def change_tempo(speech: Synthesis, rate: float) -> Synthesis:
    """Speed speech up or down by `rate` keeping its pitch (ffmpeg atempo, 0.5–2.0 per stage)."""
    if rate == 1.0:
        return speech
    stages = []
    remaining = rate
    while remaining > 2.0 or remaining < 0.5:
        step = 2.0 if remaining > 2.0 else 0.5
        stages.append(step)
        remaining /= step
    stages.append(remaining)
    with tempfile.TemporaryDirectory(prefix="avp-tempo-") as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        src.write_bytes(speech.audio)
        chain = ",".join(f"atempo={s:.6f}" for s in stages)
        run(["-i", src, "-af", chain, "-ac", "1", "-c:a", "pcm_s16le", "-y", dst], timeout=120)
        return Synthesis.from_wav(dst.read_bytes())
