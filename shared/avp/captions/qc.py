"""Caption QC: every way a cue track breaks its style preset, per cue, with totals.

Times are compared in whole milliseconds, the precision of WebVTT and SRT, with each
limit rounded to the millisecond too: 2 frames at 24 fps (83.33 ms) is met by an 83 ms
gap. Reading speed counts the characters a viewer reads: tags removed, character
references decoded, spaces and punctuation included, line breaks and the spaces at either
end of a line excluded.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from avp.captions.cuetext import plain_text
from avp.captions.errors import VttParseError
from avp.captions.model import Cue
from avp.captions.presets import StylePreset
from avp.captions.vtt import parse_vtt

ViolationCode = Literal["line_too_long", "too_many_lines", "reading_speed", "too_short", "too_long",
                        "gap_too_small", "overlap", "empty", "invalid_timing", "after_media_end"]


@dataclass(frozen=True)
class Violation:
    """One broken rule: the cue (0-based index in the input), the measured value and the
    limit, in the rule's unit (characters, lines, characters per second or seconds).
    `line` is the 1-based line for line_too_long."""

    code: ViolationCode
    cue_index: int
    value: float
    limit: float
    message: str
    line: int | None = None


@dataclass
class QcReport:
    """The result of checking one track against one preset."""

    preset: str
    cue_count: int
    violations: list[Violation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the track was readable and breaks no rule."""
        return not self.violations and not self.errors

    @property
    def totals(self) -> dict[str, int]:
        """The number of violations per code."""
        return dict(Counter(v.code for v in self.violations))

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form of the report."""
        return {
            "ok": self.ok,
            "preset": self.preset,
            "cue_count": self.cue_count,
            "totals": self.totals,
            "violations": [asdict(v) for v in self.violations],
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def visible_lines(cue: Cue) -> list[str]:
    """The cue's lines as a viewer reads them (markup removed, ends trimmed)."""
    return [line.strip() for line in plain_text(cue.text).split("\n")]


def _cue_violations(index: int, cue: Cue, preset: StylePreset) -> list[Violation]:
    found: list[Violation] = []
    lines = visible_lines(cue)
    chars = sum(len(line) for line in lines)
    if chars == 0:
        found.append(Violation("empty", index, 0, 1, "cue has no text"))
    for number, line in enumerate(lines, start=1):
        if len(line) > preset.max_chars_per_line:
            found.append(Violation("line_too_long", index, len(line), preset.max_chars_per_line,
                                   f"line {number} has {len(line)} characters", number))
    if len(lines) > preset.max_lines:
        found.append(Violation("too_many_lines", index, len(lines), preset.max_lines,
                               f"{len(lines)} lines"))
    if not (math.isfinite(cue.start) and math.isfinite(cue.end)) or cue.start < 0 or _ms(cue.end) <= _ms(cue.start):
        found.append(Violation("invalid_timing", index, cue.duration, 0,
                               f"cue runs from {cue.start} s to {cue.end} s"))
        return found
    duration_ms = _ms(cue.end) - _ms(cue.start)
    if chars * 1000 > preset.max_cps * duration_ms + 1e-9:
        cps = chars * 1000 / duration_ms
        found.append(Violation("reading_speed", index, round(cps, 2), preset.max_cps,
                               f"{chars} characters in {duration_ms / 1000} s is {cps:.1f} chars/s"))
    if preset.min_duration is not None and duration_ms < _ms(preset.min_duration):
        found.append(Violation("too_short", index, duration_ms / 1000, preset.min_duration,
                               f"shown for {duration_ms / 1000} s"))
    if preset.max_duration is not None and duration_ms > _ms(preset.max_duration):
        found.append(Violation("too_long", index, duration_ms / 1000, preset.max_duration,
                               f"shown for {duration_ms / 1000} s"))
    return found


def _spacing_violations(cues: Sequence[Cue], preset: StylePreset) -> list[Violation]:
    """Overlaps and too-small gaps between cues that follow each other in time; each is
    reported on the later cue."""
    found: list[Violation] = []
    order = sorted((i for i, c in enumerate(cues) if math.isfinite(c.start) and math.isfinite(c.end)),
                   key=lambda i: (cues[i].start, i))
    for before, after in zip(order, order[1:]):
        gap_ms = _ms(cues[after].start) - _ms(cues[before].end)
        if gap_ms < 0:
            found.append(Violation("overlap", after, -gap_ms / 1000, 0,
                                   f"starts {-gap_ms / 1000} s before cue {before} ends"))
        elif preset.min_gap is not None and gap_ms < _ms(preset.min_gap):
            found.append(Violation("gap_too_small", after, gap_ms / 1000, preset.min_gap,
                                   f"only {gap_ms / 1000} s after cue {before}"))
    return found


def _media_violations(cues: Sequence[Cue], media_duration: float) -> list[Violation]:
    """Cues that start or end after the media does: a player never shows what lies past the end."""
    end_ms = _ms(media_duration)
    return [Violation("after_media_end", index, cue.end, media_duration,
                      f"runs to {cue.end} s, after the media ends at {media_duration} s")
            for index, cue in enumerate(cues)
            if math.isfinite(cue.start) and math.isfinite(cue.end) and max(_ms(cue.start), _ms(cue.end)) > end_ms]


def check_cues(cues: Sequence[Cue], preset: StylePreset, *, media_duration: float | None = None) -> QcReport:
    """Check every cue against `preset` and, when `media_duration` is known, against the end of
    the media; violations come in cue order."""
    violations = [v for index, cue in enumerate(cues) for v in _cue_violations(index, cue, preset)]
    violations += _spacing_violations(cues, preset)
    if media_duration is not None:
        violations += _media_violations(cues, media_duration)
    violations.sort(key=lambda v: v.cue_index)
    return QcReport(preset.name, len(cues), violations)


def check_vtt(text: str, preset: StylePreset, *, strict: bool = True, report_parse_errors: bool = False,
              media_duration: float | None = None) -> QcReport:
    """Parse a WebVTT file and check its cues. A parse error raises `VttParseError`,
    or, with `report_parse_errors`, comes back as the report's errors (one per problem).
    Parser warnings (lenient mode, unreadable settings) are listed in `warnings`."""
    try:
        doc = parse_vtt(text, strict=strict)
    except VttParseError as error:
        if not report_parse_errors:
            raise
        return QcReport(preset.name, 0, errors=[f"line {line}: {message}" for line, message in error.problems])
    report = check_cues(doc.cues, preset, media_duration=media_duration)
    report.warnings = [f"line {w.line}: {w.message}" for w in doc.warnings]
    return report
