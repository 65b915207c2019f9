"""Where in a 16 kHz mono WAV somebody is speaking (voice-activity detection)."""
from __future__ import annotations

import wave
from pathlib import Path
from typing import Literal

import numpy as np

SAMPLE_RATE = 16_000
FRAME_SECONDS = 0.02
# Pauses shorter than this are breaths inside speech, not gaps between utterances.
MIN_SILENCE = 0.3
MIN_SPEECH = 0.1
PAD = 0.05
# dBFS floor: digital silence and dither never count as speech, however quiet the file is.
ABSOLUTE_FLOOR_DB = -60.0
# A frame is voiced when it is this far above the file's noise floor ...
ABOVE_NOISE_DB = 12.0
# ... and not this far below its loud passages (keeps hiss in a loud file out).
BELOW_PEAK_DB = 35.0

Detector = Literal["silero", "energy"]


def speech_regions(wav_path: str | Path, *, detector: Detector = "silero") -> list[tuple[float, float]]:
    """(start, end) seconds of speech in a 16 kHz mono 16-bit WAV (as `extract_speech_wav` writes).

    "silero" uses the Silero VAD model that faster-whisper ships (speech only, ignores music);
    "energy" is a loudness detector with a threshold adapted to the file (any loud sound counts).
    """
    samples = read_pcm16(wav_path)
    if detector == "silero":
        return _silero(samples)
    return energy_regions(samples)


def read_pcm16(wav_path: str | Path) -> np.ndarray:
    """The samples of a 16 kHz mono 16-bit WAV as float32 in [-1, 1)."""
    with wave.open(str(wav_path), "rb") as wav:
        if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (SAMPLE_RATE, 1, 2):
            raise ValueError(f"{wav_path} is not 16 kHz mono 16-bit PCM; make it with extract_speech_wav")
        raw = wav.readframes(wav.getnframes())
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def energy_regions(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> list[tuple[float, float]]:
    """Runs of frames louder than an adaptive threshold, merged across short pauses and padded."""
    frame = int(FRAME_SECONDS * sample_rate)
    count = len(samples) // frame
    if count == 0:
        return []
    frames = samples[: count * frame].reshape(count, frame).astype(np.float64)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    noise, peak = (float(p) for p in np.percentile(level, [10, 99]))
    threshold = max(ABSOLUTE_FLOOR_DB, noise + ABOVE_NOISE_DB, peak - BELOW_PEAK_DB)
    voiced = level > threshold
    # Indices where voiced flips: starts at even positions, ends at odd ones.
    edges = np.flatnonzero(np.diff(np.concatenate(([False], voiced, [False])).astype(np.int8)))
    runs = [(int(a) * FRAME_SECONDS, int(b) * FRAME_SECONDS) for a, b in zip(edges[::2], edges[1::2])]
    return _tidy(runs, total=count * FRAME_SECONDS)


def _silero(samples: np.ndarray) -> list[tuple[float, float]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    # faster-whisper's defaults (2 s silence, 400 ms pad) suit cutting audio for ASR, not
    # finding pauses; these keep pauses of 0.3 s and more.
    options = VadOptions(min_silence_duration_ms=int(MIN_SILENCE * 1000), speech_pad_ms=0,
                         min_speech_duration_ms=int(MIN_SPEECH * 1000))
    stamps = get_speech_timestamps(samples, options, sampling_rate=SAMPLE_RATE)
    runs = [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]
    return _tidy(runs, total=len(samples) / SAMPLE_RATE)


def _tidy(runs: list[tuple[float, float]], *, total: float) -> list[tuple[float, float]]:
    """Merge runs split by pauses shorter than MIN_SILENCE, drop blips, pad, clamp to the file."""
    merged: list[tuple[float, float]] = []
    for start, end in runs:
        if merged and start - merged[-1][1] < MIN_SILENCE:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return [
        (round(max(0.0, start - PAD), 3), round(min(total, end + PAD), 3))
        for start, end in merged
        if end - start >= MIN_SPEECH
    ]
