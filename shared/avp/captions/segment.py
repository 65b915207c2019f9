"""Turn recognised words into caption cues that pass every check of a style preset.

Two passes. Grouping picks the cue boundaries with dynamic programming: each candidate cue
must fit the preset's lines (one line per speaker when two speakers share it) and may not
span a long silence; among those, the cheapest split prefers sentence and clause ends and
pauses, and penalises cues that would be too short to read. Timing then places each cue in
integer milliseconds: at its first word (up to 0.25 s earlier when it needs the time),
long enough for the preset's minimum duration and reading speed, into the following
silence and no later than the next cue allows.

The preset's limits are hard: the result has no QC violation. When speech is faster than
the reading speed allows and there is no silence to extend into, a cue keeps its full
duration and the next cue starts later than its words (captions lag until the next pause)
- text is never dropped or condensed here. `media_duration` bounds every cue: no cue starts
or ends after the media (the last cues are cut short if the rules leave no other room).
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from avp.captions.cuetext import escape_text
from avp.captions.linebreak import Layout, Token, break_cost, ends_sentence, join, layout, min_lines
from avp.captions.model import Cue, Word
from avp.captions.presets import StylePreset

LEAD_MS = 250              # a caption may appear this long before its first word
LINGER_MS = 1500           # BBC: a caption stays no more than 1.5 s after the speech
MAX_SILENCE_MS = 1500      # no cue spans a longer silence between two words
CLOSE_GAP_MS = 500         # Netflix: shorter gaps between cues are closed to the minimum
START_SNAP_FRAMES = 3
END_SNAP_FRAMES = 12
# Presets without a duration limit still get sensible cues: at most 7 s, and at least
# 20 frames where the silence allows it (the Netflix values).
FALLBACK_MAX_DURATION = 7.0
FALLBACK_MIN_DURATION = 20 / 24

# Grouping costs (see linebreak for the break costs themselves).
_COST_PER_CUE = 4.0
_COST_SPLIT_NAME = 40.0
_COST_PAUSE_INSIDE = 15.0
_COST_SENTENCE_INSIDE = 6.0
_COST_SHARED_SPEAKERS = 10.0
_COST_PER_MS_SHORT = 0.03
_COST_PER_CHAR_OF_FRAGMENT = 0.3  # per character a sentence fragment is short of half a line


@dataclass(frozen=True)
class Segment:
    """A cue and the words it shows (a word split over two cues belongs to both)."""

    cue: Cue
    words: tuple[Word, ...]


@dataclass(frozen=True)
class _Limits:
    width: int
    lines: int
    capacity: int          # most characters one cue can hold at its reading speed
    cps: float
    hard_min_ms: int
    soft_min_ms: int
    max_ms: int
    gap_ms: int
    start_snap_ms: int
    end_snap_ms: int
    dash: bool

    @classmethod
    def of(cls, preset: StylePreset) -> _Limits:
        max_ms = round((preset.max_duration or FALLBACK_MAX_DURATION) * 1000)
        hard_min_ms = round((preset.min_duration or 0.0) * 1000)
        return cls(
            width=preset.max_chars_per_line,
            lines=preset.max_lines,
            capacity=min(preset.max_chars_per_line * preset.max_lines,
                         math.floor(preset.max_cps * max_ms / 1000)),
            cps=preset.max_cps,
            hard_min_ms=hard_min_ms,
            soft_min_ms=max(hard_min_ms, round(FALLBACK_MIN_DURATION * 1000)),
            max_ms=max_ms,
            gap_ms=round((preset.min_gap or 0.0) * 1000),
            start_snap_ms=round(preset.frames(START_SNAP_FRAMES) * 1000),
            end_snap_ms=round(preset.frames(END_SNAP_FRAMES) * 1000),
            dash=preset.speaker_change == "dash",
        )

    def reading_ms(self, chars: int) -> int:
        """The shortest duration that shows `chars` characters within the reading speed."""
        return max(self.hard_min_ms, math.ceil(chars * 1000 / self.cps))


# ------------------------------------------------------------------------------- tokens


def _pieces(text: str, width: int) -> list[str]:
    """Split a word wider than a line (a URL) into pieces that fit, preferring to cut
    after a separator such as "/" or "." in the second half of the piece."""
    pieces: list[str] = []
    while len(text) > width:
        window = text[:width]
        cut = max(window.rfind(sep) for sep in "/.?&=-_#") + 1
        cut = cut if cut > width // 2 else width
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text]


def _tokens(words: Sequence[Word], limits: _Limits) -> tuple[list[Token], list[Word]]:
    """Words as tokens in time order, in milliseconds. A word that overlaps the next is cut
    where the next one starts (recognisers place starts better than ends), a word longer
    than a cue may last is shortened, and a word wider than a line is split into glued
    pieces sharing its time."""
    ordered = sorted((w for w in words if w.text.strip()), key=lambda w: (w.start, w.end))
    piece_width = min(limits.width, limits.capacity)
    tokens: list[Token] = []
    speaker: str | None = None
    for index, word in enumerate(ordered):
        start = max(0, round(word.start * 1000))
        end = min(max(start, round(word.end * 1000)), start + limits.max_ms)
        if tokens and tokens[-1].end > start:
            last = tokens.pop()
            tokens.append(Token(last.text, last.start, max(last.start, start), last.speaker, last.glue, last.word))
        speaker = word.speaker if word.speaker is not None else speaker
        parts: list[tuple[str, bool]] = []
        for part in word.text.split():
            pieces = _pieces(part, piece_width)
            parts += [(piece, number < len(pieces) - 1) for number, piece in enumerate(pieces)]
        total = sum(len(part) for part, _ in parts)
        done = 0
        for part, glue in parts:
            piece_start = start + (end - start) * done // total
            done += len(part)
            tokens.append(Token(part, piece_start, start + (end - start) * done // total, speaker, glue, index))
    return tokens, ordered


# ----------------------------------------------------------------------------- grouping


def _prefix(speaker: str | None, limits: _Limits) -> str:
    return "- " if limits.dash else f"{speaker}: "


def _turns(tokens: Sequence[Token]) -> list[Sequence[Token]]:
    """The tokens split where the speaker changes (an unknown speaker changes nothing)."""
    bounds = [0] + [index for index in range(1, len(tokens))
                    if tokens[index - 1].speaker is not None and tokens[index].speaker != tokens[index - 1].speaker]
    return [tokens[a:b] for a, b in zip(bounds, [*bounds[1:], len(tokens)])]


def _layout(turns: Sequence[Sequence[Token]], limits: _Limits) -> Layout | None:
    """The cue's lines, or None when these speaker turns cannot form one cue. Two
    speakers share a cue with one line each, marked by the preset's speaker style."""
    if len(turns) == 1:
        if min_lines(turns[0], limits.width) > limits.lines:
            return None
        return layout(turns[0], limits.width)
    if len(turns) > 2 or limits.lines < 2:
        return None
    lines = [_prefix(turn[0].speaker, limits) + join(turn) for turn in turns]
    return Layout(lines, _COST_SHARED_SPEAKERS) if all(len(line) <= limits.width for line in lines) else None


def _latest_end(tokens: Sequence[Token], stop: int, limits: _Limits, media_ms: int | None) -> int:
    """The latest end for a cue whose last token is tokens[stop - 1] that lingers no more
    than LINGER_MS, leaves the next word its gap, and stays inside the media."""
    tail_end = tokens[stop - 1].end
    latest = tail_end + LINGER_MS
    if stop < len(tokens):
        latest = min(latest, tokens[stop].start - limits.gap_ms)
    if media_ms is not None and media_ms >= tail_end:
        latest = min(latest, media_ms)
    return latest


def _shortfall_ms(tokens: Sequence[Token], first: int, stop: int, chars: int,
                  limits: _Limits, media_ms: int | None) -> int:
    """How much time the cue tokens[first:stop] would lack for its soft minimum and
    reading speed, estimated from the silences around it."""
    head = tokens[first]
    lead = LEAD_MS if first == 0 else min(LEAD_MS, max(0, (head.start - tokens[first - 1].end) // 2))
    window_end = _latest_end(tokens, stop, limits, media_ms)
    need = max(limits.soft_min_ms, limits.reading_ms(chars))
    return max(0, need - (window_end - max(0, head.start - lead)))


def _group_cost(tokens: Sequence[Token], first: int, stop: int, lines: Layout,
                limits: _Limits, pause_split_ms: int, media_ms: int | None) -> float:
    cost = _COST_PER_CUE + lines.cost
    if stop < len(tokens):
        left, right = tokens[stop - 1], tokens[stop]
        pause = right.start - left.end
        cost += 0.0 if pause >= pause_split_ms else break_cost(left, right, _COST_SPLIT_NAME)
        if left.glue:
            cost += _COST_SPLIT_NAME
    for left, right in zip(tokens[first:stop - 1], tokens[first + 1:stop]):
        if right.start - left.end >= pause_split_ms:
            cost += _COST_PAUSE_INSIDE
        elif ends_sentence(left.text) and left.speaker == right.speaker:
            cost += _COST_SENTENCE_INSIDE
    chars = sum(len(line) for line in lines.lines)
    whole_sentence = ends_sentence(tokens[stop - 1].text) and (first == 0 or ends_sentence(tokens[first - 1].text))
    if not whole_sentence:
        cost += _COST_PER_CHAR_OF_FRAGMENT * max(0, limits.width // 2 - chars)
    return cost + _COST_PER_MS_SHORT * _shortfall_ms(tokens, first, stop, chars, limits, media_ms)


def _group(tokens: Sequence[Token], limits: _Limits, pause_split_ms: int,
           media_ms: int | None) -> list[tuple[int, int, list[str]]]:
    """The cheapest split of the tokens into cues, as (first, stop, lines) triples."""
    count = len(tokens)
    best: list[tuple[float, int, list[str]]] = [(0.0, 0, [])] + [(math.inf, 0, [])] * count
    for first in range(count):
        base = best[first][0]
        for stop in range(first + 1, count + 1):
            if stop - first > 1:
                silence = tokens[stop - 1].start - tokens[stop - 2].end
                if silence > MAX_SILENCE_MS or tokens[stop - 1].end - tokens[first].start > limits.max_ms:
                    break
            lines = _layout(_turns(tokens[first:stop]), limits)
            if lines is None or sum(len(line) for line in lines.lines) > limits.capacity:
                # A single token always fits, and a cue that does not fit only gets
                # worse with more words.
                break
            cost = base + _group_cost(tokens, first, stop, lines, limits, pause_split_ms, media_ms)
            if cost < best[stop][0]:
                best[stop] = (cost, first, lines.lines)
    groups: list[tuple[int, int, list[str]]] = []
    stop = count
    while stop > 0:
        _, first, lines = best[stop]
        groups.append((first, stop, lines))
        stop = first
    return groups[::-1]


# ------------------------------------------------------------------------------- timing


def _nearest(points: Sequence[int], target: int, low: int, high: int, reach: int) -> int | None:
    """The point closest to `target` within `reach` of it and inside [low, high]."""
    low, high = max(low, target - reach), min(high, target + reach)
    if low > high:
        return None
    index = bisect.bisect_left(points, low)
    inside = points[index:bisect.bisect_right(points, high)]
    return min(inside, key=lambda p: abs(p - target)) if inside else None


def _time(tokens: Sequence[Token], groups: Sequence[tuple[int, int, list[str]]], limits: _Limits,
          shots: Sequence[int], media_ms: int | None) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    snapped_ends: list[bool] = []
    previous_end: int | None = None
    for first, stop, lines in groups:
        head, tail = tokens[first], tokens[stop - 1]
        need = limits.reading_ms(sum(len(line) for line in lines))
        low = max(0, head.start - LEAD_MS, tail.end - limits.max_ms)
        if previous_end is not None:
            low = max(low, previous_end + limits.gap_ms)
        limit = _latest_end(tokens, stop, limits, media_ms)

        start = max(head.start, low)
        overrun = max(tail.end, start + need) - limit
        if overrun > 0:
            # Appear a little before the speech rather than push the next cue late.
            start = max(low, start - overrun)
        shot = _nearest(shots, start, low, head.start + limits.start_snap_ms, limits.start_snap_ms)
        if shot is not None and max(tail.end, shot + need) <= max(limit, tail.end, start + need):
            start = shot
        end = max(tail.end, start + need)
        end = max(end, min(start + limits.soft_min_ms, limit, start + limits.max_ms))
        shot = _nearest(shots, end, max(tail.end, start + need), min(max(limit, end), start + limits.max_ms),
                        limits.end_snap_ms)
        snapped_ends.append(shot is not None)
        end = shot if shot is not None else end
        spans.append((start, end))
        previous_end = end
    return _close_gaps(spans, snapped_ends, tokens, groups, limits)


def _close_gaps(spans: list[tuple[int, int]], snapped_ends: list[bool], tokens: Sequence[Token],
                groups: Sequence[tuple[int, int, list[str]]], limits: _Limits) -> list[tuple[int, int]]:
    """Chain cues separated by less than half a second: the first stays up until the
    minimum gap before the next (a flicker of blank screen is harder to read)."""
    closed = list(spans)
    for index in range(len(closed) - 1):
        (start, end), next_start = closed[index], closed[index + 1][0]
        target = next_start - limits.gap_ms
        tail_end = tokens[groups[index][1] - 1].end
        if (not snapped_ends[index] and end < target and next_start - end < CLOSE_GAP_MS
                and target - start <= limits.max_ms and target <= tail_end + LINGER_MS):
            closed[index] = (start, target)
    return closed


def _fit_before_media_end(spans: list[tuple[int, int]], earliest: Sequence[int], media_ms: int | None,
                  gap_ms: int) -> list[tuple[int, int]]:
    """Cues that would run past the end of the media end with it, from the last cue back. A
    cue moves earlier, keeping its duration, as far as its lead before the speech allows
    (`earliest`), and only then is cut short (to a millisecond at least); the cue before it
    keeps its gap. This is the one limit that wins over the preset's: a player shows nothing
    after the end, so when the last words leave no room the QC flags the squeezed cues."""
    if media_ms is None:
        return spans
    inside = list(spans)
    limit = media_ms
    for index in range(len(inside) - 1, -1, -1):
        start, end = inside[index]
        if end <= limit:
            break
        new_end = max(limit, 1)
        new_start = max(min(start, new_end - (end - start)), min(earliest[index], start), 0)
        inside[index] = (min(new_start, new_end - 1), new_end)
        limit = inside[index][0] - gap_ms
    return inside


# -------------------------------------------------------------------------------- entry


def segment(words: Sequence[Word], preset: StylePreset, *, shot_changes: Sequence[float] = (),
            pause_split: float = 0.7, media_duration: float | None = None) -> list[Segment]:
    """Cues for the words under `preset`, each with the words it shows. See the module
    docstring for the rules; times are rounded to the millisecond."""
    limits = _Limits.of(preset)
    tokens, ordered = _tokens(words, limits)
    if not tokens:
        return []
    media_ms = None if media_duration is None else round(media_duration * 1000)
    if media_ms is not None:  # a word heard "after the end" is a recogniser's timing error
        tokens = [replace(t, start=min(t.start, media_ms), end=min(t.end, media_ms)) for t in tokens]
    groups = _group(tokens, limits, round(pause_split * 1000), media_ms)
    shots = sorted(round(t * 1000) for t in shot_changes)
    earliest = [max(0, tokens[first].start - LEAD_MS) for first, _, _ in groups]
    spans = _fit_before_media_end(_time(tokens, groups, limits, shots, media_ms), earliest, media_ms, limits.gap_ms)
    segments = []
    for (first, stop, lines), (start, end) in zip(groups, spans):
        text = "\n".join(escape_text(line) for line in lines)
        indexes = sorted({token.word for token in tokens[first:stop]})
        segments.append(Segment(Cue(start / 1000, end / 1000, text), tuple(ordered[i] for i in indexes)))
    return segments


def segment_words(words: list[Word], preset: StylePreset, *, shot_changes: Sequence[float] = (),
                  pause_split: float = 0.7, media_duration: float | None = None) -> list[Cue]:
    """Caption cues for recognised words that meet every limit of `preset`: line length
    and count, reading speed, minimum and maximum duration, minimum gap, no overlap.
    Cue boundaries follow sentences, clauses, pauses of `pause_split` seconds or more and
    speaker changes; starts and ends snap to `shot_changes` (seconds) when no rule breaks."""
    return [s.cue for s in segment(words, preset, shot_changes=shot_changes,
                                   pause_split=pause_split, media_duration=media_duration)]
