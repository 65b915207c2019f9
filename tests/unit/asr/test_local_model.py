"""The local recognizer with the real Whisper base model on the in-repository test media (tests/data)."""
from pathlib import Path
import wave

import numpy as np
import pytest

from avp.providers.asr.audio import load_audio
from avp.providers.asr.base import NO_SPEECH
from avp.providers.asr.local import LocalSettings, LocalTranscriber
from avp.providers.asr.wer import wer

MEDIA = Path(__file__).resolve().parents[2] / "data" / "media"
pytestmark = pytest.mark.slow
EXAMPLE_VIDEO = MEDIA / "video/example-720p.mp4"
JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


@pytest.fixture(scope="module")
def transcriber() -> LocalTranscriber:
    return LocalTranscriber()


def _onset_after(samples: np.ndarray, seconds: float) -> float:
    """First 10 ms frame after `seconds` louder than -50 dBFS: where "Banana." really starts."""
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160)
    loud = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-10) > -50
    first = int(seconds * 100) + int(np.argmax(loud[int(seconds * 100):]))
    return first / 100


def test_jfk_word_error_rate(transcriber):
    transcript = transcriber.transcribe(MEDIA / "speech/en/jfk.wav")
    assert transcript.language == "en"
    assert wer(JFK, transcript.text) <= 0.10
    assert all(0 <= w.start <= w.end <= transcript.duration for w in transcript.words)


@pytest.mark.parametrize("vad_filter", [False, True])
def test_banana_is_placed_at_its_speech_onset(vad_filter):
    onset = _onset_after(load_audio(EXAMPLE_VIDEO), 30.0)
    assert 39.5 < onset < 40.5
    settings = LocalSettings(vad_filter=vad_filter, vad_min_silence_ms=1000)   # 1 s misplaced it with faster-whisper's own VAD
    words = LocalTranscriber(settings).transcribe(EXAMPLE_VIDEO, language="en").words
    late = [w for w in words if w.start > 30.0]
    assert [w.text for w in late] == ["Banana."]
    assert abs(late[0].start - onset) <= 0.25


@pytest.mark.parametrize("kind", ["silence", "white-noise", "hum"])
def test_no_speech_gives_no_words(transcriber, tmp_path, kind):
    t = np.arange(16_000 * 5) / 16_000
    signal = {"silence": np.zeros_like(t),
              "white-noise": 0.1 * np.random.default_rng(3).standard_normal(t.size),
              "hum": 0.05 * np.sin(2 * np.pi * 50 * t) + 0.01 * np.random.default_rng(4).standard_normal(t.size)}[kind]
    path = tmp_path / f"{kind}.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16_000)
        out.writeframes((signal * 32767).astype("<i2").tobytes())
    transcript = transcriber.transcribe(path, language="en")
    assert transcript.words == []
    assert NO_SPEECH in transcript.notes
