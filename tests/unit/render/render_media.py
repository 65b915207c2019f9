"""Test media made with ffmpeg lavfi (a moving test pattern with 1 kHz beeps at known times) and
the measurements the render tests make on outputs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from avp.media.ffmpeg import run
from avp.providers.tts.base import Synthesis

FPS = 25
BEEPS = (3.0, 7.0, 10.0)  # 0.2 s beeps, source seconds
HUM_HZ = 300  # continuous programme tone, for measuring ducking


def make_source(path: Path, seconds: float, *, hum: bool = False) -> Path:
    beeps = "+".join(f"between(t,{b},{b + 0.2})" for b in BEEPS)
    expr = f"0.5*sin(2*PI*1000*t)*({beeps})" + (f"+0.2*sin(2*PI*{HUM_HZ}*t)" if hum else "")
    run(
        ["-f", "lavfi", "-i", f"testsrc2=s=320x180:r={FPS}:d={seconds}",
         "-f", "lavfi", "-i", f"aevalsrc='{expr}':s=48000:d={seconds}",
         "-c:v", "libx264", "-preset", "veryfast", "-g", str(2 * FPS), "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "128k", "-shortest", "-y", path],
        timeout=120,
    )  # fmt: skip
    return path


def tone(seconds: float, freq: float, sample_rate: int = 22050) -> Synthesis:
    """A stand-in for a voiced description that an energy detector can find unambiguously."""
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    return Synthesis.from_pcm((0.5 * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2").tobytes(), sample_rate)


def decode_audio(path: Path, work: Path, rate: int = 16000) -> np.ndarray:
    raw = work / f"{path.stem}.pcm"
    run(["-i", path, "-map", "0:a:0", "-ac", "1", "-ar", str(rate), "-f", "s16le", "-y", raw], timeout=60)
    return np.frombuffer(raw.read_bytes(), dtype="<i2").astype(np.float64) / 32768


def band_level(samples: np.ndarray, rate: int, freq: float, start: float, end: float) -> float:
    """Amplitude of one frequency over [start, end) (a single DFT bin, Hann-windowed)."""
    chunk = samples[round(start * rate) : round(end * rate)]
    window = np.hanning(len(chunk))
    phase = np.exp(-2j * np.pi * freq * np.arange(len(chunk)) / rate)
    return float(2 * abs(np.sum(chunk * window * phase)) / np.sum(window))


def onsets(samples: np.ndarray, rate: int, freq: float, *, step: float = 0.01, threshold: float = 0.1) -> list[float]:
    """Times where the `freq` component rises above `threshold`, at `step` resolution."""
    hop = round(step * rate)
    levels = [band_level(samples, rate, freq, i / rate, (i + 4 * hop) / rate) for i in range(0, len(samples) - 4 * hop, hop)]
    found = []
    for i, level in enumerate(levels):
        if level >= threshold and (i == 0 or levels[i - 1] < threshold):
            found.append(round(i * step + 2 * step, 3))  # centre of the analysis window
    return found


def decode_frames(path: Path, work: Path) -> np.ndarray:
    """Every frame, small and grey: enough to tell frames of testsrc2 apart."""
    raw = work / f"{path.stem}.gray"
    run(["-i", path, "-map", "0:v:0", "-vf", "scale=80:45,format=gray", "-f", "rawvideo", "-y", raw], timeout=60)
    return np.frombuffer(raw.read_bytes(), dtype=np.uint8).reshape(-1, 45, 80).astype(np.float64)
