"""The local recognizer's checks that need no model: the hallucination gate and the factory."""
from dataclasses import dataclass, field
import wave

import numpy as np
import pytest

from avp.providers.asr.base import NO_SPEECH, get_transcriber
from avp.providers.asr.local import LocalSettings, LocalTranscriber
from avp.providers.asr.timing import Span


@dataclass
class FakeSegment:
    start: float = 1.0
    end: float = 2.0
    no_speech_prob: float = 0.1
    avg_logprob: float = -0.3
    compression_ratio: float = 1.4
    words: list = field(default_factory=list)


SOUND = SPEECH = [Span(0.9, 2.5)]


@pytest.mark.parametrize(("segment", "kept"), [
    (FakeSegment(), True),
    # "Banana." after a long pause: low log-probability but the model is sure there is speech.
    (FakeSegment(no_speech_prob=0.19, avg_logprob=-1.14), True),
    # Whisper's "You" on silence: unsure of speech and not confident of the words.
    (FakeSegment(no_speech_prob=0.68, avg_logprob=-0.78), False),
    (FakeSegment(compression_ratio=3.1), False),             # a repetition loop
    (FakeSegment(start=5.0, end=6.0), False),                 # nothing audible there
])
def test_plausibility_gate(segment, kept):
    assert LocalTranscriber()._plausible(segment, SOUND, SPEECH) is kept


def test_silence_gives_no_words_without_running_the_decoder(tmp_path):
    path = tmp_path / "silence.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16_000)
        out.writeframes(np.zeros(16_000 * 3, dtype="<i2").tobytes())
    # A model directory that does not exist proves the decoder is never loaded.
    transcript = LocalTranscriber(LocalSettings(model_dir=tmp_path / "absent")).transcribe(path)
    assert transcript.words == [] and transcript.notes == [NO_SPEECH]
    assert transcript.duration == pytest.approx(3.0)


def test_factory_builds_each_provider():
    local = get_transcriber("local", vad_filter=True)
    assert isinstance(local, LocalTranscriber) and local.settings.vad_filter
    assert type(get_transcriber("gemini", client=object())).__name__ == "GeminiTranscriber"
    assert type(get_transcriber("video-intelligence", client=object())).__name__ == "VideoIntelligenceTranscriber"
    with pytest.raises(ValueError, match="unknown"):
        get_transcriber("whisper-large")


@dataclass
class FakePiece:
    word: str
    start: float
    end: float
    probability: float = 0.9


def test_hyphen_and_apostrophe_pieces_join_the_word_before():
    from avp.providers.asr.local import _words

    segment = FakeSegment(words=[FakePiece(" an", 0.8, 1.3), FakePiece(" ill", 1.3, 1.46), FakePiece("-disposed.", 1.46, 2.02, 0.7),
                     FakePiece(" John", 2.1, 2.3), FakePiece("'s", 2.3, 2.4)])
    assert [(w.text, w.start, w.end, w.confidence) for w in _words(segment)] == [
        ("an", 0.8, 1.3, 0.9), ("ill-disposed.", 1.3, 2.02, 0.7), ("John's", 2.1, 2.4, 0.9)]


def test_pieces_of_unspaced_scripts_stay_separate():
    from avp.providers.asr.local import _words

    segment = FakeSegment(words=[FakePiece("你好", 0.0, 0.4), FakePiece("世界", 0.4, 0.8)])
    assert [w.text for w in _words(segment)] == ["你好", "世界"]
