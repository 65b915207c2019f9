"""Word timing checked against the audio itself.

Recognizer timestamps drift where speech follows a long silence (faster-whisper's VAD stitching
and Whisper's own 30 s windows both do it; see "Known pitfalls"). The loudness envelope of the
audio says where sound really starts, so word starts that sit in silence are moved to the
onset of the sound they belong to.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from avp.captions.model import Word

HOP_SECONDS = 0.01
_SILENT_PEAK_DB = -65.0      # a recording whose loudest frames stay below this holds no speech
_MIN_DYNAMIC_DB = 15.0       # less contrast than this and loudness cannot tell speech from pause
_ONSET_BELOW_PEAK_DB = 30.0  # a frame this close to the peak is certainly sound
_EDGE_BELOW_PEAK_DB = 45.0   # sound is extended back/forward while frames stay this close
_MIN_SPAN_SECONDS = 0.05     # shorter bursts are clicks, not syllables


@dataclass(frozen=True)
class Span:
    """A stretch of media time in seconds."""

    start: float
    end: float


def frame_levels(samples: np.ndarray, sample_rate: int, hop: float = HOP_SECONDS) -> np.ndarray:
    """Loudness of consecutive `hop`-long frames in dBFS (RMS); digital silence is -100."""
    size = max(1, int(round(sample_rate * hop)))
    count = len(samples) // size
    frames = samples[: count * size].astype(np.float64).reshape(count, size)
    return 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-10)


def sound_spans(samples: np.ndarray, sample_rate: int, *, min_gap: float = 0.2) -> list[Span]:
    """Where the audio holds sound, from its loudness envelope.

    Thresholds follow the recording (its floor and its peak) rather than fixed levels, with
    hysteresis: a span needs a clearly loud frame and extends over the quieter edges around it.
    Audio with too little contrast to tell (steady noise, or speech without a single pause)
    comes back as one span over everything, so callers then leave timings alone.
    """
    levels = frame_levels(samples, sample_rate)
    duration = len(samples) / sample_rate
    if levels.size == 0:
        return []
    floor, peak = np.percentile(levels, [10, 99])
    if peak < _SILENT_PEAK_DB:
        return []
    if peak - floor < _MIN_DYNAMIC_DB:
        return [Span(0.0, duration)]
    loud = levels > max(floor + _MIN_DYNAMIC_DB * 0.8, peak - _ONSET_BELOW_PEAK_DB)
    audible = levels > max(floor + _MIN_DYNAMIC_DB * 0.4, peak - _EDGE_BELOW_PEAK_DB)
    spans: list[Span] = []
    for first, last in _runs(audible):
        if not loud[first:last].any() or (last - first) * HOP_SECONDS < _MIN_SPAN_SECONDS:
            continue
        start, end = first * HOP_SECONDS, min(last * HOP_SECONDS, duration)
        if spans and start - spans[-1].end < min_gap:
            spans[-1] = Span(spans[-1].start, end)
        else:
            spans.append(Span(start, end))
    return spans


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[first, last) index pairs of the True runs in `mask`."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def overlaps(start: float, end: float, spans: list[Span]) -> bool:
    """Whether [start, end] shares any time with one of `spans`."""
    return any(span.start < end and start < span.end for span in spans)


def reanchor_words(words: list[Word], spans: list[Span], *, tolerance: float = 0.1) -> tuple[list[Word], int]:
    """Move word starts that lie in silence onto the onset of the sound that follows.

    A word that overlaps the next sound gets its start pulled to the onset. A run of words
    lying wholly in silence is shifted together onto the next sound, if no later word already
    sits there (then the run is left as it is: there is nothing to anchor it to). Returns the
    new words and how many were moved.
    """
    result = list(words)
    moved = 0
    i = 0
    while i < len(result):
        word = result[i]
        onset = next((span for span in spans if span.end > word.start), None)
        if onset is None or onset.start <= word.start + tolerance:
            i += 1
            continue
        if word.end > onset.start:
            result[i] = replace(word, start=onset.start)
            moved += 1
            i += 1
            continue
        last = i
        while last + 1 < len(result) and result[last + 1].end <= onset.start:
            last += 1
        shift = onset.start - word.start
        following = result[last + 1] if last + 1 < len(result) else None
        if following is None or following.start >= result[last].end + shift:
            for k in range(i, last + 1):
                result[k] = replace(result[k], start=result[k].start + shift, end=result[k].end + shift)
            moved += last + 1 - i
        i = last + 1
    return result, moved
