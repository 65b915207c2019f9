"""Pauses in the dialogue, where an audio description can be spoken without covering speech."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from avp.captions.model import Word
from avp.media.vad import speech_regions

__all__ = ["Gap", "dialogue_gaps", "speech_regions"]

# STANDARDS.md: gaps shorter than about 2 s are not usable for a description.
MIN_USABLE_GAP = 2.0
# Slivers left where padded spans almost touch are not pauses anyone could hear.
MIN_REPORTED_GAP = 0.05


@dataclass(frozen=True)
class Gap:
    """A stretch with nobody speaking; `usable` is False when it is too short for a description."""

    start: float
    end: float
    usable: bool = True

    @property
    def duration(self) -> float:
        return self.end - self.start


def dialogue_gaps(
    words: Iterable[Word],
    speech_regions: Iterable[tuple[float, float]],
    duration: float,
    *,
    min_gap: float = MIN_USABLE_GAP,
    pad: float = 0.2,
) -> list[Gap]:
    """Every silence (of 50 ms or more) between 0 and `duration` s; ones under `min_gap` get `usable=False`.

    Speech is the union of the transcript's word times and the voice-activity regions:
    either alone misses speech (a mumble the recogniser dropped; a word the VAD found too
    quiet). Each stretch of speech is widened by `pad` so a description neither clips the
    last syllable nor runs into the next breath.
    """
    spans = sorted(
        (max(0.0, start - pad), min(duration, end + pad))
        for start, end in [*((w.start, w.end) for w in words), *speech_regions]
        if end > start
    )
    gaps: list[Gap] = []
    cursor = 0.0
    for start, end in spans:
        if start - cursor >= MIN_REPORTED_GAP:
            gaps.append(_gap(cursor, start, min_gap))
        cursor = max(cursor, end)
    if duration - cursor >= MIN_REPORTED_GAP:
        gaps.append(_gap(cursor, duration, min_gap))
    return gaps


def _gap(start: float, end: float, min_gap: float) -> Gap:
    return Gap(start=round(start, 3), end=round(end, 3), usable=end - start >= min_gap)
