"""Placeholders: description cues that ask a describer to write one, never spoken.

The offline drafter cannot see what happens in a long stretch without dialogue, so it leaves
a note there for the describer: text wholly in square brackets, such as
"[Describe: 6.4–21.3 s, no dialogue]". The brackets are the mark, so the rule holds for a
drafted track, a translated one ("[Décrire : ...]") and one a person edited or uploaded: a
cue stays a placeholder until someone replaces its text with a description. Placeholders
stay in the description track for the describer but are never synthesized, mixed into the
description audio, or put into the accessible video; each one is a description still to write.
"""
from __future__ import annotations

from collections.abc import Iterable

from avp.captions.cuetext import plain_text
from avp.captions.model import Cue


def placeholder_text(start: float, end: float) -> str:
    """The note asking for a description of `start`..`end` seconds without dialogue."""
    return f"[Describe: {start:.1f}–{end:.1f} s, no dialogue]"


def is_placeholder(text: str) -> bool:
    """Whether a description's text (a cue payload) is a note to the describer: wholly in
    square brackets, so not a description to voice."""
    visible = plain_text(text).strip()
    return len(visible) >= 2 and visible[0] == "[" and visible[-1] == "]" and "]" not in visible[1:-1]


def count_to_write(cues: Iterable[Cue]) -> int:
    """How many descriptions of a track are still to write (its placeholders)."""
    return sum(1 for cue in cues if is_placeholder(cue.text))
