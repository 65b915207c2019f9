"""Fit voiced descriptions into dialogue gaps; what cannot fit becomes extended (a pause point).

Pure logic: speech synthesis is passed in, so the same engine runs with eSpeak, a cloud
voice, or a fake in tests. Times are seconds on the source timeline.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

from avp.captions.model import Cue, inside_media
from avp.describe.drafts import is_placeholder
from avp.providers.describe.base import Description, GapLike
from avp.providers.tts.base import Synthesis

Synthesize = Callable[[str, float], Synthesis]

STANDARD, EXTENDED = "standard", "extended"
PLACEHOLDER_SPAN = 2.0  # seconds a placeholder covers when its stretch is unknown (the shortest usable gap)
_EPS = 1e-6


@dataclass(frozen=True)
class PausePoint:
    """Freeze the picture at `at` (source seconds) for `duration` seconds while cue `cue_index` plays."""

    at: float
    duration: float
    cue_index: int

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class Placed:
    """A description cue with the speech that voices it."""

    cue: Cue
    audio: Synthesis


@dataclass(frozen=True)
class FitReport:
    fitted: int
    extended: int
    added_time: float
    overlaps_speech: int

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class FitResult:
    """`placed`: the voiced descriptions in time order; `cues`: the description track, the
    voiced cues and the placeholders in time order, `voiced_index[i]` being where `placed[i]`
    is in it. A pause point's `cue_index` is a position in `cues`."""

    placed: list[Placed]
    pause_points: list[PausePoint]
    report: FitReport
    cues: list[Cue]
    voiced_index: list[int]


@dataclass(frozen=True)
class _Window:
    start: float
    end: float


def fit_descriptions(
    descriptions: Sequence[Description],
    gaps: Sequence[GapLike],
    synthesize: Synthesize,
    *,
    max_rate: float = 1.2,
    pad: float = 0.15,
    max_delay: float = 5.0,
    duration: float | None = None,
) -> FitResult:
    """Place each description in the first dialogue gap that starts within `max_delay` s of its
    target and can hold it (speaking up to `max_rate` if needed); otherwise make it extended.
    Placeholders (`avp.describe.drafts`) are never voiced: they join the track as they are.

    `pad` keeps every description that far from speech and from the next description.
    `duration` (the video length) bounds the last gap, the speech check and every cue.
    """
    speak = _memo(synthesize)
    to_write = [d for d in descriptions if is_placeholder(d.text)]
    descriptions = [d for d in descriptions if not is_placeholder(d.text)]
    windows = [
        _Window(g.start + pad, min(g.end, duration if duration is not None else g.end) - pad)
        for g in sorted(gaps, key=lambda g: g.start)
    ]
    windows = [w for w in windows if w.end - w.start > _EPS]
    placed: list[Placed] = []
    pauses: list[PausePoint] = []
    free_from = 0.0  # source time where the next description may start
    for desc in sorted(descriptions, key=lambda d: (d.start_target, d.priority)):
        earliest = max(desc.start_target, free_from)
        if duration is not None:
            earliest = min(earliest, duration)
        reachable = [w for w in windows if w.end > earliest + _EPS and max(w.start, earliest) <= desc.start_target + max_delay]
        natural = speak(desc.text, 1.0)
        start, speech, rate, pause = _standard(desc.text, natural, reachable, earliest, speak, max_rate) or _extended(
            natural, reachable, earliest
        )
        index = len(placed)
        if pause > 0:
            pauses.append(PausePoint(at=round(start, 3), duration=round(pause, 3), cue_index=index))
        placed.append(Placed(cue=_cue(desc, start, speech, rate, pause, duration), audio=speech))
        free_from = start + speech.duration - pause + pad
    report = FitReport(
        fitted=sum(1 for p in placed if p.cue.data["mode"] == STANDARD),
        extended=len(pauses),
        added_time=round(sum(p.duration for p in pauses), 3),
        overlaps_speech=count_speech_overlaps(placed, gaps, duration),
    )
    # Placeholders go after voiced cues that start at the same time (sorted() is stable).
    entries = sorted([(p.cue, i) for i, p in enumerate(placed)] + [(_placeholder_cue(d, duration), None) for d in to_write],
                     key=lambda entry: entry[0].start)
    voiced_index = [0] * len(placed)
    for position, (_, i) in enumerate(entries):
        if i is not None:
            voiced_index[i] = position
    pauses = [replace(p, cue_index=voiced_index[p.cue_index]) for p in pauses]
    return FitResult(placed=placed, pause_points=pauses, report=report, cues=[cue for cue, _ in entries],
                     voiced_index=voiced_index)


def _standard(
    text: str,
    natural: Synthesis,
    windows: Sequence[_Window],
    earliest: float,
    speak: Synthesize,
    max_rate: float,
) -> tuple[float, Synthesis, float, float] | None:
    """(start, speech, rate, 0) in the first window that holds the description, or None."""
    for w in windows:
        start = max(w.start, earliest)
        room = w.end - start
        if natural.duration <= room:
            return start, natural, 1.0, 0.0
        needed = natural.duration / room
        if needed > max_rate:
            continue
        # Engines do not scale pauses exactly with rate: step up until it fits or the cap is hit.
        for rate in sorted({math.ceil(needed * 100) / 100, min(max_rate, round(needed * 1.05, 2)), max_rate}):
            faster = speak(text, min(rate, max_rate))
            if faster.duration <= room:
                return start, faster, min(rate, max_rate), 0.0
    return None


def _extended(natural: Synthesis, windows: Sequence[_Window], earliest: float) -> tuple[float, Synthesis, float, float]:
    """Pause at the start of the roomiest reachable window (or at `earliest` if none) for exactly
    the time the description overruns it, at the natural rate."""
    if not windows:
        return earliest, natural, 1.0, natural.duration
    best = max(windows, key=lambda w: w.end - max(w.start, earliest))
    start = max(best.start, earliest)
    return start, natural, 1.0, natural.duration - (best.end - start)


def _placeholder_cue(desc: Description, duration: float | None) -> Cue:
    """A placeholder as it stays in the track: over the stretch it asks to describe."""
    end = desc.end if desc.end is not None and desc.end > desc.start_target else desc.start_target + PLACEHOLDER_SPAN
    start, end = inside_media(desc.start_target, end, duration)
    return Cue(start=start, end=end, text=desc.text,
               data={"target": desc.start_target, "priority": desc.priority, "draft": True, "source": desc.source})


def _cue(desc: Description, start: float, speech: Synthesis, rate: float, pause: float, duration: float | None) -> Cue:
    # An extended description runs past its window while the picture is frozen; on the
    # media's own timeline its cue still ends with the media.
    cue_start, cue_end = inside_media(start, start + speech.duration, duration)
    return Cue(
        start=cue_start,
        end=cue_end,
        text=desc.text,
        data={
            "mode": EXTENDED if pause > 0 else STANDARD,
            "rate": rate,
            "pause_at": round(start, 3) if pause > 0 else None,
            "pause_duration": round(pause, 3),
            "audio_duration": round(speech.duration, 3),
            "target": desc.start_target,
            "priority": desc.priority,
            "draft": desc.draft,
            "source": desc.source,
        },
    )


def count_speech_overlaps(placed: Sequence[Placed], gaps: Sequence[GapLike], duration: float | None = None) -> int:
    """How many descriptions are heard while the programme plays speech.

    Independent of the placement: speech is everything outside the gaps, and a description is
    heard over the running programme for its audio length minus its pause.
    """
    ordered = sorted(gaps, key=lambda g: g.start)
    horizon = max([duration or 0.0, *(p.cue.start + p.audio.duration for p in placed), *(g.end for g in ordered)])
    edges = [0.0, *[t for g in ordered for t in (g.start, g.end)], horizon]
    speech = [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2) if edges[i + 1] - edges[i] > _EPS]
    overlaps = 0
    for p in placed:
        heard_from = p.cue.start
        heard_to = p.cue.start + p.audio.duration - float(p.cue.data["pause_duration"])  # type: ignore[arg-type]
        if any(min(heard_to, b) - max(heard_from, a) > 1e-3 for a, b in speech):
            overlaps += 1
    return overlaps


def _memo(synthesize: Synthesize) -> Synthesize:
    """Each (text, rate) is voiced once per fit: cloud voices cost money per call."""
    cache: dict[tuple[str, float], Synthesis] = {}

    def speak(text: str, rate: float) -> Synthesis:
        key = (text, round(rate, 4))
        if key not in cache:
            cache[key] = synthesize(text, rate)
        return cache[key]

    return speak
