import numpy as np
import pytest

from avp.captions.model import Word
from avp.providers.asr.timing import Span, frame_levels, overlaps, reanchor_words, sound_spans

RATE = 16_000


def _signal(total: float, bursts: list[tuple[float, float]], *, noise: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(7)
    x = noise * rng.standard_normal(int(total * RATE)).astype(np.float32)
    for start, end in bursts:
        t = np.arange(int((end - start) * RATE)) / RATE
        x[int(start * RATE): int(start * RATE) + t.size] += 0.3 * np.sin(2 * np.pi * 220 * t)
    return x


def test_digital_silence_is_minus_100_db_and_has_no_sound():
    silence = np.zeros(RATE, dtype=np.float32)
    assert frame_levels(silence, RATE).max() == pytest.approx(-100.0)
    assert sound_spans(silence, RATE) == []


def test_bursts_are_found_at_their_onsets():
    spans = sound_spans(_signal(10.0, [(1.0, 2.0), (7.5, 8.0)], noise=0.001), RATE)
    assert [(round(s.start, 2), round(s.end, 2)) for s in spans] == [(1.0, 2.0), (7.5, 8.0)]


def test_steady_noise_cannot_be_told_apart_so_it_is_one_span():
    assert sound_spans(_signal(3.0, [], noise=0.1), RATE) == [Span(0.0, 3.0)]


def test_overlaps():
    spans = [Span(1.0, 2.0)]
    assert overlaps(1.5, 3.0, spans) and not overlaps(2.0, 3.0, spans)


SPANS = [Span(0.2, 3.0), Span(39.96, 40.6)]


def test_words_in_sound_are_left_alone():
    words = [Word("hello", 0.25, 0.6), Word("there", 0.7, 1.0)]
    assert reanchor_words(words, SPANS) == (words, 0)


def test_start_in_silence_is_pulled_to_the_onset():
    moved, count = reanchor_words([Word("Banana.", 38.94, 40.34)], SPANS)
    assert (moved[0].start, moved[0].end, count) == (39.96, 40.34, 1)


def test_words_wholly_in_silence_move_together_onto_the_next_sound():
    words = [Word("say", 3.1, 3.3), Word("banana.", 3.4, 3.8)]
    moved, count = reanchor_words(words, SPANS)
    assert count == 2
    assert [t for w in moved for t in (w.start, w.end)] == pytest.approx([39.96, 40.16, 40.26, 40.66])


def test_words_in_silence_stay_when_the_next_sound_is_taken():
    words = [Word("uh", 3.1, 3.3), Word("Banana.", 39.97, 40.4)]
    assert reanchor_words(words, SPANS) == (words, 0)
