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
    """One timed text cue. `settings` keeps WebVTT cue settings verbatim for round trips;
    `data` carries per-cue metadata (e.g. {"draft": True, "priority": 2} for descriptions)."""

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
