"""Dialogue gaps from word times and voice activity; VAD on synthetic tones and real speech."""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from avp.captions.model import Word
from avp.media.gaps import Gap, dialogue_gaps, speech_regions
from avp.media.transcode import extract_speech_wav
from avp.media.vad import energy_regions

RATE = 16_000


def test_gaps_between_words_and_regions() -> None:
    words = [Word("Hello", 0.5, 0.9), Word("there", 1.0, 1.4), Word("Banana", 9.0, 9.5)]
    # The VAD heard a cough the recogniser left out (4.0-4.3 s).
    regions = [(0.45, 1.5), (4.0, 4.3)]
    gaps = dialogue_gaps(words, regions, 12.0)
    assert gaps == [
        Gap(0.0, 0.25, usable=False),
        Gap(1.7, 3.8, usable=True),
        Gap(4.5, 8.8, usable=True),
        Gap(9.7, 12.0, usable=True),
    ]


def test_short_gaps_are_reported_but_unusable() -> None:
    gaps = dialogue_gaps([Word("a", 0.0, 1.0), Word("b", 2.5, 3.0)], [], 3.0, min_gap=2.0, pad=0.1)
    assert gaps == [Gap(1.1, 2.4, usable=False)]
    assert gaps[0].duration == pytest.approx(1.3)


def test_silence_only_is_one_gap() -> None:
    assert dialogue_gaps([], [], 5.0) == [Gap(0.0, 5.0, usable=True)]


def test_speech_everywhere_leaves_no_gap() -> None:
    assert dialogue_gaps([Word("x", 0.0, 5.0)], [(0.0, 5.0)], 5.0) == []


def _bursts(spans: list[tuple[float, float]], seconds: float, noise: float = 0.002) -> np.ndarray:
    """Noise floor with 200 Hz + 1 kHz tone bursts (a crude voice) at `spans`."""
    rng = np.random.default_rng(3)
    samples = rng.normal(0.0, noise, int(seconds * RATE))
    t = np.arange(len(samples)) / RATE
    for start, end in spans:
        on = (t >= start) & (t < end)
        samples[on] += 0.3 * np.sin(2 * np.pi * 200 * t[on]) + 0.1 * np.sin(2 * np.pi * 1000 * t[on])
    return samples.astype(np.float32)


def test_energy_vad_finds_bursts_and_bridges_breaths() -> None:
    regions = energy_regions(_bursts([(1.0, 2.0), (2.15, 3.0), (6.0, 6.5)], 8.0))
    # The 0.15 s pause is a breath (< 0.3 s): one region; each is padded by 0.05 s.
    assert regions == [(pytest.approx(0.95, abs=0.03), pytest.approx(3.05, abs=0.03)),
                       (pytest.approx(5.95, abs=0.03), pytest.approx(6.55, abs=0.03))]


def test_energy_vad_ignores_steady_noise_and_digital_silence() -> None:
    assert energy_regions(_bursts([], 3.0, noise=0.01)) == []
    assert energy_regions(np.zeros(RATE * 2, dtype=np.float32)) == []


def test_speech_regions_reads_a_wav(tmp_path: Path) -> None:
    path = tmp_path / "tones.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes((_bursts([(0.5, 1.5)], 3.0) * 32767).astype("<i2").tobytes())
    [(start, end)] = speech_regions(path, detector="energy")
    assert start == pytest.approx(0.45, abs=0.03) and end == pytest.approx(1.55, abs=0.03)


def test_speech_regions_refuses_other_wav_formats(tmp_path: Path) -> None:
    path = tmp_path / "cd.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44100)
    with pytest.raises(ValueError, match="16 kHz mono"):
        speech_regions(path)


@pytest.mark.slow
def test_silero_on_real_speech(media_dir: Path) -> None:
    # jfk.wav: four phrases of "And so my fellow Americans, ask not ..." in 11 s.
    regions = speech_regions(media_dir / "speech/en/jfk.wav")
    assert len(regions) == 4
    assert regions[0][0] == pytest.approx(0.3, abs=0.2) and regions[-1][1] == pytest.approx(10.5, abs=0.3)


@pytest.fixture(scope="module")
def example_wav(example: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    wav = tmp_path_factory.mktemp("speech") / "example.wav"
    extract_speech_wav(example, wav)
    return wav


@pytest.mark.slow
@pytest.mark.parametrize("detector", ["silero", "energy"])
def test_example_gaps(example_wav: Path, detector: str) -> None:
    regions = speech_regions(example_wav, detector=detector)  # type: ignore[arg-type]
    # Narration 0-17 s, then silence until "Banana." at about 39.9-40.4 s.
    assert regions[0][0] < 0.5
    assert regions[-2][1] == pytest.approx(17.3, abs=0.3)
    assert regions[-1] == (pytest.approx(39.95, abs=0.2), pytest.approx(40.5, abs=0.2))
    usable = [g for g in dialogue_gaps([], regions, 42.4) if g.usable]
    assert len(usable) == 1
    assert usable[0].start == pytest.approx(17.5, abs=0.3) and usable[0].end == pytest.approx(39.75, abs=0.2)
