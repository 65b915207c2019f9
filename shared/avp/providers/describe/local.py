"""The offline describer: drafts cues for a human describer from what the machine can verify.

It never guesses at content it cannot see. It marks the opening shot and every scene change,
reads new on-screen text, and leaves a placeholder (`avp.describe.drafts`: bracketed, never
voiced) over each long stretch without dialogue. Every cue is `draft=True`; every cue starts
and ends inside the media.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from avp.describe.drafts import placeholder_text
from avp.providers.describe.base import (
    PRIORITY_ESSENTIAL,
    PRIORITY_OPTIONAL,
    PRIORITY_USEFUL,
    DescribeInput,
    Description,
    ShotLike,
)

# HH:MM:SS;FF, MM:SS, 12.05.33 ... a clock or timecode is never worth reading out.
_TIMECODE = re.compile(r"^\d{1,2}(?:[:;]\d{1,2}){1,3}(?:[.,]\d+)?$")
_DIGIT = re.compile(r"\d")


class LocalDescriber:
    """Describer that drafts from shots, on-screen text and dialogue gaps."""

    name = "local"

    def __init__(self, *, min_silence: float = 5.0):
        self.min_silence = min_silence

    def describe(self, material: DescribeInput) -> list[Description]:
        """Draft cues: opening shot, scene changes with new on-screen text, long silences."""
        shots = sorted(material.shots, key=lambda s: s.start)
        texts = _readable_texts(shots)
        drafts = [_draft(0.0, _with_text("Opening shot.", texts[0] if texts else ""), PRIORITY_ESSENTIAL)]
        previous = texts[0] if texts else ""
        for shot, text in zip(shots[1:], texts[1:]):
            new_text = text if text != previous else ""
            priority = PRIORITY_USEFUL if new_text else PRIORITY_OPTIONAL
            drafts.append(_draft(shot.start, _with_text("Scene change.", new_text), priority))
            previous = text
        for gap in material.gaps:
            end = min(gap.end, material.duration)
            if end - gap.start >= self.min_silence:
                drafts.append(_draft(gap.start, placeholder_text(gap.start, end), PRIORITY_USEFUL, end=end))
        return sorted((d for d in drafts if d.start_target < material.duration), key=lambda d: (d.start_target, d.priority))


def _draft(at: float, text: str, priority: int, end: float | None = None) -> Description:
    return Description(start_target=round(at, 3), text=text, priority=priority, draft=True, source="local",
                       end=None if end is None else round(end, 3))


def _with_text(lead: str, on_screen: str) -> str:
    if not on_screen:
        return lead
    end = "" if on_screen[-1] in ".!?" else "."
    return f"{lead} On screen: {on_screen}{end}"


def _readable_texts(shots: Sequence[ShotLike]) -> list[str]:
    """Each shot's on-screen text without running clocks/counters, lines joined with ", "."""
    counters = _running_counter_shapes(shots)
    readable = []
    for shot in shots:
        lines = []
        for line in (shot.text or "").splitlines():
            kept = [t for t in line.split() if not _is_counter(t, counters)]
            if kept:
                lines.append(" ".join(kept))
        readable.append(", ".join(lines))
    return readable


def _is_counter(token: str, counter_shapes: set[str]) -> bool:
    bare = token.strip("()[]")
    return bool(_TIMECODE.match(bare)) or (_mostly_digits(bare) and _shape(bare) in counter_shapes)


def _running_counter_shapes(shots: Sequence[ShotLike]) -> set[str]:
    """Digit-dominated tokens whose form recurs across shots with a different value each time:
    a frame counter or clock burnt into the picture, not text a viewer needs read."""
    values: dict[str, set[str]] = defaultdict(set)
    seen_in: dict[str, int] = defaultdict(int)
    for shot in shots:
        shapes_here = set()
        for token in (shot.text or "").split():
            bare = token.strip("()[]")
            if _mostly_digits(bare):
                values[_shape(bare)].add(bare)
                shapes_here.add(_shape(bare))
        for shape in shapes_here:
            seen_in[shape] += 1
    return {s for s, n in seen_in.items() if n >= 2 and len(values[s]) >= 2}


def _shape(token: str) -> str:
    return _DIGIT.sub("0", token)


def _mostly_digits(token: str) -> bool:
    return bool(token) and len(_DIGIT.findall(token)) * 2 >= len(token)
