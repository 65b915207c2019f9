"""WebVTT cue payload text: escaping plain words into it and reading the visible text out.

`Cue.text` always holds a WebVTT cue payload (markup such as `<i>` and `&amp;` included),
so every format and every check reads it through this module.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal

# A tag runs to the next ">" or to the end of the payload (the W3C tokenizer's tag state).
_TAG = re.compile(r"<[^>]*>?")
_WHITESPACE = " \t\f\n\r"
# Name and dotted classes up to the first whitespace; the rest is the annotation.
_START_TAG = re.compile(r"([^ \t\f\n\r]*)(?:[ \t\f\n\r](.*))?", re.DOTALL)

TokenKind = Literal["text", "start", "end", "timestamp"]


@dataclass(frozen=True)
class CueToken:
    """A piece of a cue payload: decoded text, a start or end tag, or a timestamp tag.
    For tags, `name` is the tag name (`i`, `b`, `v`, `c` ...), `classes` the dotted
    classes and `annotation` the text after the name (the speaker of a `<v>` span)."""

    kind: TokenKind
    value: str = ""
    name: str = ""
    classes: tuple[str, ...] = ()
    annotation: str = ""


def _tag_token(tag: str) -> CueToken | None:
    inner = tag[1:-1] if tag.endswith(">") else tag[1:]
    if inner.startswith("/"):
        return CueToken("end", name=inner[1:].split(".")[0].strip(_WHITESPACE))
    if inner[:1].isdigit():
        return CueToken("timestamp", value=inner)
    head, annotation = _START_TAG.fullmatch(inner).groups()  # type: ignore[union-attr]
    name, *classes = head.split(".")
    if not name:
        return None
    return CueToken("start", name=name, classes=tuple(c for c in classes if c),
                    annotation=(annotation or "").strip(_WHITESPACE))


def tokenize(payload: str) -> list[CueToken]:
    """Split a cue payload into text (character references decoded) and tag tokens."""
    tokens: list[CueToken] = []
    position = 0
    for match in _TAG.finditer(payload):
        if match.start() > position:
            tokens.append(CueToken("text", value=html.unescape(payload[position:match.start()])))
        tag = _tag_token(match.group())
        if tag is not None:
            tokens.append(tag)
        position = match.end()
    if position < len(payload):
        tokens.append(CueToken("text", value=html.unescape(payload[position:])))
    return tokens


def plain_text(payload: str) -> str:
    """The text a viewer reads: tags removed, character references decoded, lines kept."""
    return "".join(token.value for token in tokenize(payload) if token.kind == "text")


def escape_text(text: str) -> str:
    """Make plain text safe as a cue payload (`&`, `<` and `>` become references)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
