"""How the local recognizer cuts voiced audio into decode windows and joins their words again
(no model needed)."""
from avp.captions.model import Word
import numpy as np

from avp.providers.asr.audio import SAMPLE_RATE
from avp.providers.asr.local import (WINDOW_SECONDS, PackedWindows, close_utterances, decode_windows, pack_windows, unheard,
                                     within)
from avp.providers.asr.timing import Span


def test_close_spans_share_a_window_and_far_ones_do_not():
    speech = [Span(0.0, 4.0), Span(5.0, 9.0), Span(20.0, 21.0), Span(22.5, 23.0)]
    assert decode_windows(speech, join_gap=3.0) == [Span(0.0, 9.0), Span(20.0, 23.0)]


def test_no_window_is_longer_than_whisper_reads():
    speech = [Span(i * 5.0, i * 5.0 + 4.5) for i in range(12)]   # 60 s of speech with 0.5 s pauses
    windows = decode_windows(speech, join_gap=3.0)
    assert all(w.end - w.start <= WINDOW_SECONDS for w in windows)
    assert windows[0].start == 0.0 and windows[-1].end == speech[-1].end and len(windows) == 2


def _w(text, start, end):
    return Word(text, start, end, 0.9)


def test_an_isolated_word_becomes_its_own_sentence():
    # The example video: narration, 22 s of silence, then "banana" decoded alone.
    groups = [[_w("I", 15.0, 15.2), _w("will", 15.2, 15.4), _w("say", 15.4, 15.6), _w("banana.", 15.6, 16.0)],
              [_w("banana", 39.9, 40.4)]]
    words = close_utterances(groups, [Span(0.0, 17.7), Span(39.6, 41.0)], 3.0)
    assert [w.text for w in words] == ["I", "will", "say", "banana.", "Banana."]


def test_windows_split_mid_sentence_are_left_as_they_are():
    groups = [[_w("and", 28.0, 28.5), _w("so", 28.6, 29.0)], [_w("on", 29.3, 29.6), _w("we", 29.7, 30.0)]]
    words = close_utterances(groups, [Span(0.0, 29.2), Span(29.2, 35.0)], 3.0)
    assert [w.text for w in words] == ["And", "so", "on", "we."]   # only the very first word and the end change


def test_scripts_without_case_get_no_period():
    words = close_utterances([[_w("你好", 0.0, 0.4)]], [Span(0.0, 1.0)], 3.0)
    assert [w.text for w in words] == ["你好"]


def test_the_voiced_rest_after_the_last_word_is_decoded_again():
    speech, sound = [Span(0.0, 17.7)], [Span(0.1, 12.9), Span(13.4, 17.3)]
    words = [_w("the", 12.3, 12.5), _w("time.", 12.5, 12.84)]
    # The rest starts where the last word's sound ends, not where Whisper ended the word.
    assert unheard(Span(0.0, 17.7), words, speech, sound, pad=0.4) == [Span(12.9, 17.7)]


def test_padding_after_the_last_word_is_not_a_rest():
    speech, sound = [Span(0.0, 5.4)], [Span(0.4, 5.0)]
    assert unheard(Span(0.0, 5.4), [_w("end.", 4.5, 5.0)], speech, sound, pad=0.4) == []
    assert unheard(Span(0.0, 5.4), [], speech, sound, pad=0.4) == []


def test_a_voiced_stretch_without_words_is_decoded_alone():
    # The 10-minute example: "Banana." at 39.9 s shares a window with the narration from 42.4 s.
    speech, sound = [Span(39.63, 40.98), Span(42.0, 60.1)], [Span(39.9, 40.5), Span(42.5, 59.7)]
    words = [_w("Hello.", 42.57, 43.0), _w("end.", 59.0, 59.6)]
    assert unheard(Span(39.63, 60.1), words, speech, sound, pad=0.4) == [Span(39.63, 40.98)]


def test_words_never_run_past_the_media():
    words = within([_w("last", 5.9, 6.1), _w("word.", 6.1, 8.43)], 6.17)
    assert [(w.start, w.end) for w in words] == [(5.9, 6.1), (6.1, 6.17)]
    assert within([_w("late", 6.5, 7.0)], 6.17)[0].start == 6.17


def test_short_windows_share_an_encoder_pass_unless_told_to_stay_alone():
    # A lone word and a sentence's tail, as a first pass leaves them for a second look.
    rests = [Span(39.6, 41.0), Span(55.5, 60.1), Span(82.1, 83.4), Span(97.9, 102.5), Span(140.0, 165.0)]
    assert pack_windows(rests, gap=1.0) == [rests[:4], rests[4:]]
    assert pack_windows(rests, gap=1.0, alone=frozenset({rests[1]})) == [[rests[0]], [rests[1]], rests[2:4], rests[4:]]
    assert pack_windows(rests, gap=0) == [[r] for r in rests]
    assert all(sum(w.end - w.start for w in p) + 1.0 * (len(p) - 1) <= WINDOW_SECONDS
               for p in pack_windows(rests, gap=1.0))


def test_packed_words_come_back_at_their_own_time_and_window():
    samples = np.arange(200 * SAMPLE_RATE, dtype=np.float32)
    windows = [Span(39.6, 41.0), Span(55.5, 60.1), Span(120.0, 145.0)]
    packed = PackedWindows.build(samples, pack_windows(windows, gap=1.0), 1.0)
    assert packed.windows == windows and packed.offsets == [0.0, 2.4, 30.0]
    assert [(c.start, c.end) for c in packed.clips] == [(0.0, 7.0), (30.0, 55.0)]
    # Each window's audio sits at its offset, the silence between them is silence.
    assert packed.audio[int(2.4 * SAMPLE_RATE)] == samples[int(55.5 * SAMPLE_RATE)]
    assert packed.audio[int(1.9 * SAMPLE_RATE)] == 0
    assert packed.place(_w("banana", 0.35, 0.9)) == (0, _w("banana", 39.95, 40.5))
    assert packed.place(_w("again", 3.4, 3.8)) == (1, _w("again", 56.5, 56.9))
    # A word reaching into the silence belongs to the window holding its middle, inside it.
    assert packed.place(_w("late", 1.2, 1.7)) == (0, _w("late", 40.8, 41.0))
    assert packed.place(_w("early", 2.0, 2.6)) == (1, _w("early", 55.5, 55.7))
    assert packed.place(_w("far", 31.0, 31.5)) == (2, _w("far", 121.0, 121.5))
