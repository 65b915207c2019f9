"""The fitting engine with a fake voice (duration from word count) and once with real eSpeak."""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from avp.describe.fit import count_speech_overlaps, fit_descriptions
from avp.providers.describe.base import Description
from avp.providers.tts.base import Synthesis

WORDS_PER_SECOND = 3.0  # 180 wpm, the middle of the described-film range
RATE = 8000


@dataclass
class Gap:
    start: float
    end: float


def fake_voice(calls: list | None = None):
    """Speech whose length is words / (3 × rate) seconds: silent PCM of exactly that many samples."""

    def synthesize(text: str, rate: float) -> Synthesis:
        if calls is not None:
            calls.append((text, rate))
        seconds = len(text.split()) / (WORDS_PER_SECOND * rate)
        return Synthesis.from_pcm(b"\0\0" * round(seconds * RATE), RATE)

    return synthesize


def words(n: int) -> str:
    return " ".join(["word"] * n)


def desc(at: float, n_words: int, priority: int = 2) -> Description:
    return Description(start_target=at, text=words(n_words), priority=priority, draft=False, source="test")


def test_fits_in_the_gap_at_its_target_at_natural_rate():
    result = fit_descriptions([desc(2.0, 6)], [Gap(1.0, 6.0)], fake_voice(), duration=10)
    (cue,) = result.cues
    assert cue.start == 2.0 and cue.end == pytest.approx(4.0)
    assert cue.data["mode"] == "standard" and cue.data["rate"] == 1.0 and cue.data["pause_at"] is None
    assert result.pause_points == [] and result.report.fitted == 1 and result.report.overlaps_speech == 0


def test_waits_for_the_next_gap_when_the_target_is_inside_speech():
    result = fit_descriptions([desc(2.0, 6)], [Gap(0.0, 1.0), Gap(4.0, 7.0)], fake_voice(), duration=10)
    assert result.cues[0].start == pytest.approx(4.15)  # gap start + pad


def test_speeds_up_within_the_cap_before_extending():
    calls: list = []
    # 7 words = 2.33 s at rate 1; the gap leaves 2.0 s after padding: needs ×1.17 ≤ 1.2.
    result = fit_descriptions([desc(5.0, 7)], [Gap(4.85, 7.15)], fake_voice(calls), duration=10)
    cue = result.cues[0]
    assert cue.data["mode"] == "standard" and 1.16 <= cue.data["rate"] <= 1.2
    assert cue.end <= 7.0 + 1e-9
    assert calls[0] == (words(7), 1.0)


def test_too_long_for_any_gap_becomes_extended_with_exactly_the_missing_time():
    # 12 words = 4 s; the gap leaves 2 s; even ×1.2 (3.33 s) does not fit.
    result = fit_descriptions([desc(5.0, 12)], [Gap(4.85, 7.15)], fake_voice(), duration=10)
    cue = result.cues[0]
    (pause,) = result.pause_points
    assert cue.data["mode"] == "extended" and cue.data["rate"] == 1.0
    assert (pause.at, pause.duration, pause.cue_index) == (5.0, 2.0, 0)
    assert cue.data["pause_at"] == 5.0 and cue.data["pause_duration"] == 2.0
    assert result.report.extended == 1 and result.report.added_time == 2.0
    assert result.report.overlaps_speech == 0
    assert json.loads(json.dumps([p.to_json() for p in result.pause_points])) == [
        {"at": 5.0, "duration": 2.0, "cue_index": 0}
    ]


def test_no_gaps_means_every_description_is_extended_at_its_target():
    result = fit_descriptions([desc(1.0, 3), desc(4.0, 6)], [], fake_voice(), duration=10)
    assert [c.data["mode"] for c in result.cues] == ["extended", "extended"]
    assert [(p.at, p.duration) for p in result.pause_points] == [(1.0, 1.0), (4.0, 2.0)]
    assert result.report.added_time == 3.0 and result.report.overlaps_speech == 0


def test_descriptions_never_overlap_each_other():
    ds = [desc(1.0, 6), desc(1.5, 3), desc(2.0, 3)]
    result = fit_descriptions(ds, [Gap(0.5, 9.0)], fake_voice(), duration=10)
    spans = [(c.start, c.end) for c in result.cues]
    assert all(a_end + 0.15 <= b_start + 1e-9 for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert [c.data["mode"] for c in result.cues] == ["standard"] * 3


def test_a_gap_too_far_after_the_target_is_not_used():
    result = fit_descriptions([desc(1.0, 3)], [Gap(20.0, 30.0)], fake_voice(), duration=30, max_delay=5.0)
    assert result.cues[0].data["mode"] == "extended" and result.pause_points[0].at == 1.0


def test_each_text_and_rate_is_synthesized_once():
    calls: list = []
    fit_descriptions([desc(1.0, 12), desc(9.0, 12)], [Gap(0.0, 3.0), Gap(8.0, 11.0)], fake_voice(calls), duration=12)
    assert len(calls) == len(set(calls))


def test_overlap_check_catches_speech_under_a_description():
    result = fit_descriptions([desc(2.0, 6)], [Gap(1.0, 6.0)], fake_voice(), duration=10)
    assert count_speech_overlaps(result.placed, [Gap(1.0, 3.0)], 10) == 1  # speech from 3 s
    assert count_speech_overlaps(result.placed, [Gap(1.0, 6.0)], 10) == 0


def test_a_sample_programme_report():
    # Dialogue with gaps of 0.8 s (unusable), 3 s, 1.5 s and a 20 s silence; five descriptions.
    gaps = [Gap(0.0, 2.0), Gap(5.0, 5.8), Gap(9.0, 12.0), Gap(15.0, 16.5), Gap(20.0, 40.0)]
    ds = [desc(0.0, 4, 1), desc(5.0, 8), desc(9.0, 8), desc(15.0, 6), desc(20.0, 25)]
    result = fit_descriptions(ds, gaps, fake_voice(), duration=42)
    placed = [(c.data["mode"], c.start) for c in result.cues]
    assert placed == [
        ("standard", 0.15),  # 1.33 s in the opening gap, after the pad
        ("standard", 9.15),  # 0.8 s gap unusable; the 3 s gap 4 s later holds it
        ("extended", 11.967),  # its gap is now taken and the next is out of reach: full pause
        ("extended", 15.15),  # 2 s > 1.2 s even at ×1.2, and 20.15 s is past reach: pause 0.8 s
        ("standard", 20.15),  # 8.3 s in the long silence
    ]
    assert [p.duration for p in result.pause_points] == [2.667, 0.8]
    assert result.report.fitted == 3 and result.report.extended == 2
    assert result.report.added_time == pytest.approx(3.467)
    assert result.report.overlaps_speech == 0
