"""Caption style presets with the published numbers of docs/STANDARDS.md.

Frame-based limits are converted at 24 fps: 20 frames = 0.833 s and 2 frames = 0.083 s.
At 25 or 30 fps the same frame counts are shorter, so the 24 fps figures are the stricter
ones and stay safe for PAL and NTSC material.

Reading speeds given in words per minute are converted with 5.1 characters per word
(letters, spaces and punctuation), the ratio Netflix itself implies by pairing 17 chars/s
with 200 wpm: cps = wpm * 5.1 / 60. Where a source gives a range, the upper bound is the
limit (BBC 180 wpm -> 15.3 cps, DCMP adult 160 wpm -> 13.6 cps).

A limit the source does not set is `None` and is not checked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CHARS_PER_WORD = 5.1
NETFLIX_FPS = 24.0

SpeakerChangeStyle = Literal["dash", "label"]


def wpm_to_cps(wpm: float) -> float:
    """Convert a reading speed in words per minute to characters per second."""
    return round(wpm * CHARS_PER_WORD / 60.0, 2)


@dataclass(frozen=True)
class StylePreset:
    """Limits one caption track is held to. Durations and gaps are in seconds.

    `speaker_change` says how two speakers sharing a cue are marked: "dash" puts each
    speaker on a line starting with "- " (Netflix, BBC without colour); "label" starts each
    speaker's line with their name and a colon (DCMP speaker identification).
    `frame_rate` is the rate the frame-based numbers were converted at; it also sets the
    shot-change snapping windows (3 frames at a start, 12 at an end).
    """

    name: str
    max_chars_per_line: int
    max_lines: int
    max_cps: float
    min_duration: float | None
    max_duration: float | None
    min_gap: float | None
    speaker_change: SpeakerChangeStyle = "dash"
    frame_rate: float = NETFLIX_FPS

    def frames(self, count: int) -> float:
        """The duration of `count` frames at this preset's frame rate, in seconds."""
        return count / self.frame_rate


PRESETS: dict[str, StylePreset] = {
    preset.name: preset
    for preset in (
        StylePreset("netflix-en", 42, 2, 17.0, 20 / NETFLIX_FPS, 7.0, 2 / NETFLIX_FPS),
        StylePreset("netflix-children", 42, 2, 13.0, 20 / NETFLIX_FPS, 7.0, 2 / NETFLIX_FPS),
        # BBC: 37 characters fill 68% of a 16:9 picture; no duration or gap limits given.
        StylePreset("bbc", 37, 2, wpm_to_cps(180), None, None, None),
        # DCMP adult programming; its 2 s minimum is for adult movies.
        StylePreset("dcmp", 32, 2, wpm_to_cps(160), 2.0, None, None, speaker_change="label"),
    )
}

DEFAULT_PRESET = "netflix-en"


def get_preset(name: str | None = None) -> StylePreset:
    """The preset called `name` (the default preset when `name` is None or empty)."""
    key = name or DEFAULT_PRESET
    try:
        return PRESETS[key]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise ValueError(f"unknown caption style preset {key!r}; known presets: {known}") from None
