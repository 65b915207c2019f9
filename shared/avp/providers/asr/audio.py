"""Audio in the form recognizers want: 16 kHz mono float samples."""
from __future__ import annotations

import tempfile
import wave
from pathlib import Path

import numpy as np

from avp.media import ffmpeg
from avp.media.vad import SAMPLE_RATE, read_pcm16
from avp.providers.asr.base import AsrError


def load_audio(path: Path) -> np.ndarray:
    """Samples of `path` as float32 in [-1, 1] at 16 kHz mono.

    A 16 kHz mono 16-bit WAV (what the pipeline's extract step writes) is read directly;
    anything else is converted with ffmpeg first.
    """
    if not path.is_file():
        raise AsrError(f"audio file not found: {path}", permanent=True)
    samples = _read_pcm16_wav(path)
    if samples is not None:
        return samples
    with tempfile.TemporaryDirectory(prefix="avp-asr-") as tmp:
        converted = Path(tmp) / "audio.wav"
        try:
            ffmpeg.run(["-i", path, "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", converted])
        except ffmpeg.FfmpegError as exc:
            raise AsrError(f"cannot decode audio of {path.name}: {exc.stderr_tail}", permanent=True) from exc
        samples = _read_pcm16_wav(converted)
    if samples is None:
        raise AsrError(f"ffmpeg did not produce 16 kHz mono audio for {path.name}", permanent=True)
    return samples


def _read_pcm16_wav(path: Path) -> np.ndarray | None:
    """`read_pcm16`, or None when `path` is not a 16 kHz mono 16-bit WAV."""
    try:
        return read_pcm16(path)
    except (ValueError, wave.Error, EOFError):
        return None
