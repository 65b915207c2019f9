"""The cue model shared by recognition, segmentation, QC and every export format."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Word:
    """One recognised word with its time span in seconds (from the start of the media)."""

    text: str
    start: float
    end: float
    confidence: float = 1.0
    speaker: str | None = None


@dataclass
class Cue:
    """One timed text cue. `settings` holds the WebVTT cue settings that take effect (name ->
    value text, as `avp.captions.vtt` reads and writes them); `data` carries per-cue metadata
    (e.g. {"draft": True, "priority": 2} for descriptions)."""

    start: float
    end: float
    text: str
    identifier: str = ""
    settings: dict[str, str] = field(default_factory=dict)
    data: dict[str, object] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


MIN_CUE = 0.001  # a cue lasts at least a millisecond: WebVTT times have no finer grain


def inside_media(start: float, end: float, duration: float | None) -> tuple[float, float]:
    """`start`..`end` (seconds) moved inside the media, rounded to the millisecond: the end no
    later than `duration`, the start at least a millisecond before the end and not before 0.
    Without a duration only the lower bound applies."""
    if duration is not None:
        end = min(end, duration)
        start = min(start, end - MIN_CUE)
    start = max(start, 0.0)
    end = max(end, start + MIN_CUE)
    return round(start, 3), round(end, 3)
