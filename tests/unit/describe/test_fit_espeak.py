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


def test_placeholders_are_kept_in_the_track_but_never_voiced():
    tts = EspeakTts()
    spoken: list[str] = []

    def speak(text, rate):
        spoken.append(text)
        return tts.synthesize(text, voice="en-us", rate=rate)

    placeholder = Description(2.0, "[Describe: 2.0–9.0 s, no dialogue]", 2, True, "local", end=9.0)
    title = Description(2.0, "On screen: Chapter One.", 2, True, "local")
    late = Description(12.0, "A boat leaves the harbour and the light fades behind the hills.", 1, True, "local")
    ending = Description(19.5, "[Describe: 19.5–23.0 s, no dialogue]", 2, True, "local", end=23.0)
    result = fit_descriptions([placeholder, title, late, ending], [Gap(1.5, 9.0), Gap(11.5, 13.0)], speak, duration=20)
    assert not any(text.startswith("[") for text in spoken)
    assert [p.cue.text for p in result.placed] == [title.text, late.text]
    # The track keeps both placeholders in time order, over their stretch and inside the media.
    assert [c.text for c in result.cues] == [title.text, placeholder.text, late.text, ending.text]
    assert (result.cues[1].start, result.cues[1].end) == (2.0, 9.0)
    assert (result.cues[3].start, result.cues[3].end) == (19.5, 20.0)
    assert result.voiced_index == [0, 2]
    # The extended description's pause point names its place in the track; its cue ends with the media.
    (pause,) = result.pause_points
    assert result.cues[pause.cue_index].text == late.text
    assert all(c.end <= 20.0 for c in result.cues)
