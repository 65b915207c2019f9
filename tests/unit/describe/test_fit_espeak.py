"""The fitting engine with a real voice: eSpeak NG durations, not word counts."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from avp.describe.fit import fit_descriptions
from avp.providers.describe.base import Description
from avp.providers.tts.local import EspeakTts


@dataclass
class Gap:
    start: float
    end: float


def test_fit_with_espeak():
    tts = EspeakTts()
    speak = lambda text, rate: tts.synthesize(text, voice="en-us", rate=rate)  # noqa: E731
    short = Description(1.0, "A green title card.", 1, False, "test")
    long = Description(
        12.0, "A woman in a red coat crosses the crowded square and hands the letter to the guard.", 2, False, "test"
    )
    result = fit_descriptions([short, long], [Gap(0.5, 6.0), Gap(11.5, 13.0)], speak, duration=20)
    first, second = result.placed
    assert first.cue.data["mode"] == "standard"
    assert first.cue.end - first.cue.start == pytest.approx(first.audio.duration, abs=1e-3)
    assert second.cue.data["mode"] == "extended"
    room = 13.0 - 0.15 - 12.0
    assert result.pause_points[0].duration == pytest.approx(second.audio.duration - room, abs=1e-3)
    assert second.audio.duration > 3.0  # sixteen words at ~175 wpm, measured from real samples
    assert result.report.overlaps_speech == 0
