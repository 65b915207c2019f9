"""Line layout for caption text: where a cue's words may break, and how to lay them out.

Costs follow the usual subtitle guidance (Netflix, BBC): break after punctuation, before a
conjunction, preposition or article, never inside a name, and prefer a bottom-heavy
pyramid when a caption takes two lines.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

SENTENCE_END = (".", "!", "?", "…")
CLAUSE_END = (",", ";", ":", "—", "–")
_CLOSERS = "\"')]»”’"
_PUNCTUATION = ".,;:!?…\"'()[]«»“”‘’—–-"
# Words a line (or a cue) may start with: a break just before them reads naturally.
BREAK_BEFORE = frozenset(
    """and but or nor so yet for because although though while if when where which who whom
    whose that than as since until unless after before the a an of in on at to from with by
    about into onto over under between through during without within against among around
    behind beyond upon toward towards""".split()
)
# Break costs: lower is a better place to end a line or a cue.
COST_SENTENCE = 0.0
COST_CLAUSE = 1.0
COST_BEFORE_FUNCTION_WORD = 2.0
COST_PLAIN = 5.0
COST_AFTER_FUNCTION_WORD = 8.0


@dataclass(frozen=True)
class Token:
    """A word as laid out: plain text, times in integer milliseconds, its speaker, and
    `glue` when it is a piece of a longer word that continues without a space."""

    text: str
    start: int
    end: int
    speaker: str | None = None
    glue: bool = False
    word: int = 0


def ends_sentence(text: str) -> bool:
    """True when the word closes a sentence (closing quotes and brackets allowed)."""
    return text.rstrip(_CLOSERS).endswith(SENTENCE_END)


def _bare(text: str) -> str:
    return text.strip(_PUNCTUATION).casefold()


def is_name_pair(left: Token, right: Token) -> bool:
    """Two capitalised words with nothing between them: likely one name ("New York")."""
    return (left.text[:1].isupper() and right.text[:1].isupper()
            and left.text[-1:].isalnum() and not left.glue)


def break_cost(left: Token, right: Token, name_cost: float) -> float:
    """The cost of ending a line or cue after `left` when `right` follows."""
    if left.glue:
        return 0.0
    if is_name_pair(left, right):
        return name_cost
    stripped = left.text.rstrip(_CLOSERS)
    if stripped.endswith(SENTENCE_END):
        return COST_SENTENCE
    if stripped.endswith(CLAUSE_END):
        return COST_CLAUSE
    if _bare(left.text) in BREAK_BEFORE:
        return COST_AFTER_FUNCTION_WORD
    if _bare(right.text) in BREAK_BEFORE:
        return COST_BEFORE_FUNCTION_WORD
    return COST_PLAIN


def join(tokens: Sequence[Token]) -> str:
    """The tokens as one line of text (pieces of a split word join without a space)."""
    parts: list[str] = []
    for index, token in enumerate(tokens):
        parts.append(token.text)
        if index < len(tokens) - 1 and not token.glue:
            parts.append(" ")
    return "".join(parts)


def min_lines(tokens: Sequence[Token], width: int) -> int:
    """The fewest lines of at most `width` characters the tokens fit on (greedy filling
    is optimal for this); a token wider than `width` makes it impossible (a huge count)."""
    lines, current = 1, -1
    for index, token in enumerate(tokens):
        if len(token.text) > width:
            return len(tokens) + 1_000_000
        space = 0 if index == 0 or tokens[index - 1].glue else 1
        if current >= 0 and current + space + len(token.text) <= width:
            current += space + len(token.text)
        elif current < 0:
            current = len(token.text)
        else:
            lines, current = lines + 1, len(token.text)
    return lines


# A name split over two lines is allowed only when nothing else fits.
_NAME_BREAK_COST = 1000.0


def _shape_cost(top: int | None, bottom: int) -> float:
    """Prefer a bottom-heavy pyramid: a longer top line costs more than a longer bottom."""
    if top is None:
        return 0.0
    if top > bottom:
        return 0.5 + 0.25 * (top - bottom)
    return 0.06 * (bottom - top)


@dataclass(frozen=True)
class Layout:
    """Lines of a cue and what their breaks and shape cost (0 for one line)."""

    lines: list[str]
    cost: float


def layout(tokens: Sequence[Token], width: int) -> Layout:
    """Lay tokens out on the fewest lines of at most `width` characters, choosing the
    breaks with the lowest linguistic and shape cost. Raises ValueError when a token is
    wider than a line."""
    count = min_lines(tokens, width)
    if count > len(tokens):
        raise ValueError(f"a word is wider than {width} characters")
    items = tuple(tokens)
    # Prefix sums so a line's width costs O(1): characters, plus one space after every
    # token but the line's last that is not glued to the next.
    chars, spaces = [0], [0]
    for token in items:
        chars.append(chars[-1] + len(token.text))
        spaces.append(spaces[-1] + (0 if token.glue else 1))

    def width_of(first: int, stop: int) -> int:
        return chars[stop] - chars[first] + spaces[stop - 1] - spaces[first]

    @lru_cache(maxsize=None)
    def best(first: int, lines_left: int, previous: int | None) -> tuple[float, tuple[int, ...]]:
        if lines_left == 1:
            length = width_of(first, len(items))
            if length > width:
                return float("inf"), ()
            return _shape_cost(previous, length), ()
        result: tuple[float, tuple[int, ...]] = (float("inf"), ())
        for stop in range(first + 1, len(items)):
            length = width_of(first, stop)
            if length > width:
                break
            rest_cost, rest = best(stop, lines_left - 1, length)
            cost = (break_cost(items[stop - 1], items[stop], _NAME_BREAK_COST)
                    + _shape_cost(previous, length) + rest_cost)
            if cost < result[0]:
                result = (cost, (stop, *rest))
        return result

    cost, breaks = best(0, count, None)
    bounds = [0, *breaks, len(items)]
    return Layout([join(items[a:b]) for a, b in zip(bounds, bounds[1:])], cost)
