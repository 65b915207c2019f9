"""WebVTT reading and writing, following the W3C WebVTT parsing rules.

The parser walks the file block by block exactly as the W3C algorithm does (the
web-platform-tests `webvtt/parsing` suite is the reference). In lenient mode it skips what
the W3C rules skip (a block whose timing line does not parse, a STYLE block after the first
cue ...) and records each skip as a warning; in strict mode, for uploads, the first problem
that loses content or breaks the syntax (a dropped block, a missing blank line, a cue out
of order or ending before it starts) raises `VttParseError` with its line number. A cue
setting players cannot read is a warning in both modes and is kept verbatim.

Round trips keep: the header line and header metadata lines, STYLE and REGION blocks,
NOTE blocks at their place among the cues, cue identifiers and cue settings verbatim.
A descriptions track says so with a `Kind: descriptions` header metadata line. Per-cue
metadata (`Cue.data`) is written as `NOTE avp {json}` right before its cue; players ignore
NOTE blocks and the parser puts the data back on the cue.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from avp.captions.errors import VttParseError
from avp.captions.model import Cue

SIGNATURE = "WEBVTT"
DATA_NOTE_PREFIX = "NOTE avp "
KIND_HEADER = "Kind"
ARROW = "-->"

_WHITESPACE = " \t\f\r\n"
_DIGITS = re.compile(r"[0-9]*")
_PERCENTAGE = re.compile(r"[0-9]+(?:\.[0-9]+)?%")
_LINE_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_ALIGNMENTS = {
    "line": ("start", "center", "end"),
    "position": ("line-left", "center", "line-right"),
}


@dataclass(frozen=True)
class VttWarning:
    """Something the W3C rules skip, at a 1-based line of the input."""

    line: int
    message: str


@dataclass(frozen=True)
class VttNote:
    """A NOTE block kept verbatim (`text` starts with "NOTE") and the index of the cue it
    precedes (`len(cues)` when it comes after the last cue)."""

    text: str
    before_cue: int


@dataclass
class VttDocument:
    """A parsed WebVTT file. `header_text` is what follows "WEBVTT" on the first line;
    `header_lines` the metadata lines under it (such as "Kind: descriptions"); `styles` and
    `regions` the bodies of STYLE and REGION blocks, verbatim."""

    cues: list[Cue] = field(default_factory=list)
    header_text: str = ""
    header_lines: list[str] = field(default_factory=list)
    notes: list[VttNote] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    warnings: list[VttWarning] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        """The track kind from a `Kind:` header metadata line, if there is one."""
        for line in self.header_lines:
            if _is_kind_line(line):
                return line.partition(":")[2].strip()
        return None


def _is_kind_line(line: str) -> bool:
    name, colon, _ = line.partition(":")
    return bool(colon) and name.strip().casefold() == KIND_HEADER.casefold()


# --------------------------------------------------------------------------- timestamps


def parse_timestamp(text: str) -> float | None:
    """Seconds for a WebVTT timestamp (`hh:mm:ss.ttt` or `mm:ss.ttt`, hours of any
    length), or None when the text is not exactly one timestamp."""
    seconds, rest = _collect_timestamp(text)
    return seconds if seconds is not None and not rest else None


def _collect_digits(text: str) -> tuple[str, str]:
    digits = _DIGITS.match(text).group()  # type: ignore[union-attr]
    return digits, text[len(digits):]


def _collect_timestamp(text: str) -> tuple[float | None, str]:
    """The W3C "collect a WebVTT timestamp": the value and the unread rest."""
    first, rest = _collect_digits(text)
    if not first:
        return None, text
    hours_first = len(first) != 2 or int(first) > 59
    if not rest.startswith(":"):
        return None, text
    second, rest = _collect_digits(rest[1:])
    if len(second) != 2:
        return None, text
    if hours_first or rest.startswith(":"):
        if not rest.startswith(":"):
            return None, text
        third, rest = _collect_digits(rest[1:])
        if len(third) != 2:
            return None, text
        hours, minutes, secs = int(first), int(second), int(third)
    else:
        hours, minutes, secs = 0, int(first), int(second)
    if not rest.startswith("."):
        return None, text
    millis, rest = _collect_digits(rest[1:])
    if len(millis) != 3 or minutes > 59 or secs > 59:
        return None, text
    return hours * 3600 + minutes * 60 + secs + int(millis) / 1000, rest


def format_timestamp(seconds: float, separator: str = ".") -> str:
    """`hh:mm:ss.ttt` for a time in seconds, rounded to the millisecond (SubRip wants a
    comma as the `separator`)."""
    if seconds < 0:
        raise ValueError(f"negative cue time {seconds}")
    total_ms = round(seconds * 1000)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


# ----------------------------------------------------------------------------- settings


def _setting_problem(name: str, value: str) -> str | None:
    """Why a cue setting would be dropped by the W3C rules, or None when it is valid."""
    if name == "vertical":
        return None if value in ("rl", "lr") else "vertical must be rl or lr"
    if name == "line":
        position, comma, align = value.partition(",")
        if comma and align not in _ALIGNMENTS["line"]:
            return f"line alignment {align!r} is not start, center or end"
        if not (_PERCENTAGE.fullmatch(position) or _LINE_NUMBER.fullmatch(position)):
            return f"line position {position!r} is not a number or a percentage"
        return _percentage_range(position)
    if name == "position":
        position, comma, align = value.partition(",")
        if comma and align not in _ALIGNMENTS["position"]:
            return f"position alignment {align!r} is not line-left, center or line-right"
        if not _PERCENTAGE.fullmatch(position):
            return f"position {position!r} is not a percentage"
        return _percentage_range(position)
    if name == "size":
        return _percentage_range(value) if _PERCENTAGE.fullmatch(value) else "size is not a percentage"
    if name == "align":
        return None if value in ("start", "center", "end", "left", "right") else f"align {value!r} is unknown"
    if name == "region":
        return None
    return f"unknown cue setting {name!r}"


def _percentage_range(text: str) -> str | None:
    if text.endswith("%") and not 0 <= float(text[:-1]) <= 100:
        return f"percentage {text} is outside 0-100%"
    return None


# ------------------------------------------------------------------------------- parser


class _Parser:
    """One pass of the W3C block loop over the input's lines."""

    def __init__(self, text: str, strict: bool) -> None:
        self.strict = strict
        self.doc = VttDocument()
        if "\0" in text:
            self._problem(1 + text[: text.index("\0")].count("\n"), "NUL character replaced by U+FFFD")
        text = text.replace("\0", "\ufffd").replace("\r\n", "\n").replace("\r", "\n")
        self.lines = text.split("\n")
        self.index = 0
        self.seen_cue = False
        self.pending_data: tuple[dict[str, object], VttNote] | None = None

    def _problem(self, line: int, message: str, *, fatal: bool = True) -> None:
        if self.strict and fatal:
            raise VttParseError(message, line)
        self.doc.warnings.append(VttWarning(line, message))

    def parse(self) -> VttDocument:
        first = self.lines[0]
        if first.startswith("\ufeff"):
            first = first[1:]
        if not first.startswith(SIGNATURE) or first[len(SIGNATURE):len(SIGNATURE) + 1] not in ("", " ", "\t"):
            raise VttParseError('a WebVTT file must start with "WEBVTT"', 1)
        self.doc.header_text = first[len(SIGNATURE) + 1:]
        self.index = 1
        if self.index < len(self.lines) and self.lines[self.index]:
            self.doc.header_lines = self._collect_block(in_header=True)[1]
        while self.index < len(self.lines):
            if not self.lines[self.index]:
                self.index += 1
                continue
            self._block()
        self._flush_pending_data()
        return self.doc

    def _collect_block(self, in_header: bool) -> tuple[str | None, list[str], int]:
        """Read one block. Returns its timing line (None when it is no cue), the other
        lines, and the 1-based number of its timing line (or first line)."""
        start_line = self.index + 1
        buffer: list[str] = []
        timing: str | None = None
        timing_line = start_line
        seen_arrow = False
        count = 0
        while self.index < len(self.lines):
            line = self.lines[self.index]
            count += 1
            if ARROW in line:
                if not in_header and (count == 1 or (count == 2 and not seen_arrow)):
                    seen_arrow = True
                    self.index += 1
                    timing, timing_line = line, self.index
                    continue
                # The W3C rules end the block here and read this line again as the
                # timing line of the next block: a cue that lacks its blank line.
                self._problem(self.index + 1, f'line with "{ARROW}" starts a new cue without a blank line before it')
                break
            if not line:
                break
            buffer.append(line)
            self.index += 1
        return timing, buffer, timing_line if timing is not None else start_line

    def _block(self) -> None:
        first_line_number = self.index + 1
        timing, lines, line_number = self._collect_block(in_header=False)
        if timing is not None:
            identifier = lines.pop(0) if line_number > first_line_number else ""
            self._cue(identifier, timing, lines, line_number)
            return
        head = lines[0] if lines else ""
        body = "\n".join(lines)
        if head.startswith("NOTE") and head[4:5] in ("", " ", "\t"):
            self._note(body, line_number)
        elif not self.seen_cue and len(lines) > 1 and head.rstrip(_WHITESPACE) in ("STYLE", "REGION"):
            target = self.doc.styles if head.startswith("STYLE") else self.doc.regions
            target.append("\n".join(lines[1:]))
        else:
            self._flush_pending_data()
            what = "STYLE/REGION block after the first cue" if head.startswith(("STYLE", "REGION")) else \
                "block is neither a cue, a NOTE, a STYLE nor a REGION (no valid timing line)"
            self._problem(line_number, what)

    def _note(self, body: str, line_number: int) -> None:
        self._flush_pending_data()
        note = VttNote(body, len(self.doc.cues))
        if body.startswith(DATA_NOTE_PREFIX):
            try:
                data = json.loads(body[len(DATA_NOTE_PREFIX):])
            except ValueError:
                data = None
            if isinstance(data, dict):
                self.pending_data = (data, note)
                return
            self._problem(line_number, "NOTE avp block does not hold a JSON object; kept as a note")
        self.doc.notes.append(note)

    def _flush_pending_data(self) -> None:
        """A data note not followed by its cue stays an ordinary note."""
        if self.pending_data is not None:
            self.doc.notes.append(self.pending_data[1])
            self.pending_data = None

    def _cue(self, identifier: str, timing: str, text_lines: list[str], line_number: int) -> None:
        parsed = self._timings(timing, line_number)
        if parsed is None:
            self._flush_pending_data()
            return
        start, end, settings = parsed
        if end <= start:
            self._problem(line_number, f"cue ends ({format_timestamp(end)}) at or before it starts")
        previous = self.doc.cues[-1].start if self.doc.cues else 0.0
        if start < previous:
            self._problem(line_number, "cue starts before the previous cue")
        data = self.pending_data[0] if self.pending_data else {}
        self.pending_data = None
        self.seen_cue = True
        self.doc.cues.append(Cue(start, end, "\n".join(text_lines), identifier, settings, data))

    def _timings(self, line: str, line_number: int) -> tuple[float, float, dict[str, str]] | None:
        """The W3C "collect WebVTT cue timings and settings", or None (after a problem)."""
        rest = line.lstrip(_WHITESPACE)
        start, rest = _collect_timestamp(rest)
        rest = rest.lstrip(_WHITESPACE)
        if start is None or not rest.startswith(ARROW):
            self._problem(line_number, f"invalid cue start time or arrow in {line!r}")
            return None
        end, rest = _collect_timestamp(rest[len(ARROW):].lstrip(_WHITESPACE))
        if end is None:
            self._problem(line_number, f"invalid cue end time in {line!r}")
            return None
        if rest and rest[0] not in _WHITESPACE:
            self._problem(line_number, f"no space between the end time and the settings in {line!r}", fatal=False)
        # Players ignore a setting they cannot read, so even strict mode only warns, and
        # the setting is kept verbatim for the round trip.
        settings: dict[str, str] = {}
        for token in rest.split():
            name, _, value = token.partition(":")
            problem = _setting_problem(name, value) if name and value else f"cue setting {token!r} is not name:value"
            if problem:
                self._problem(line_number, f"{problem} (players ignore it)", fatal=False)
            if name and value:
                settings[name] = value
        return start, end, settings


def parse_vtt(text: str, *, strict: bool = True) -> VttDocument:
    """Parse a WebVTT file. Strict mode (uploads) raises `VttParseError` at the first
    problem; lenient mode skips what the W3C rules skip and lists it in `warnings`.
    A file without the WEBVTT signature is rejected in both modes."""
    return _Parser(text, strict).parse()


# ------------------------------------------------------------------------------- writer


def _header_lines(doc: VttDocument, kind: str | None) -> list[str]:
    lines = list(doc.header_lines)
    if kind is None:
        return lines
    kind_line = f"{KIND_HEADER}: {kind}"
    for index, line in enumerate(lines):
        if _is_kind_line(line):
            lines[index] = kind_line
            return lines
    return [*lines, kind_line]


def _data_note(data: dict[str, object]) -> str:
    # ">" only occurs inside JSON strings, where \u003e is the same character; this keeps
    # "-->" (which would end the NOTE) out of the block.
    payload = json.dumps(data, ensure_ascii=False, separators=(", ", ": ")).replace(">", "\\u003e")
    return DATA_NOTE_PREFIX + payload


def _cue_block(cue: Cue) -> str:
    if ARROW in cue.identifier or "\n" in cue.identifier or "\r" in cue.identifier:
        raise ValueError(f"cue identifier {cue.identifier!r} may not hold a line break or {ARROW!r}")
    timing = f"{format_timestamp(cue.start)} {ARROW} {format_timestamp(cue.end)}"
    for name, value in cue.settings.items():
        if not name or any(c in _WHITESPACE or c == ":" for c in name) or any(c in _WHITESPACE for c in value):
            raise ValueError(f"cue setting {name!r}:{value!r} cannot be written")
        timing += f" {name}:{value}"
    # A blank line would end the cue, and "-->" would start a new one.
    text = "\n".join(line for line in cue.text.split("\n") if line).replace(ARROW, "--&gt;")
    return "\n".join(part for part in (cue.identifier, timing, text) if part)


def write_vtt(source: VttDocument | Sequence[Cue], kind: str | None = None) -> str:
    """Serialise a document (or bare cues) as WebVTT. `kind` (e.g. "descriptions") sets
    the `Kind:` header metadata line. Empty lines inside cue text are dropped, since a
    blank line ends a cue; "-->" in cue text is written as "--&gt;"."""
    doc = source if isinstance(source, VttDocument) else VttDocument(cues=list(source))
    first_line = SIGNATURE + (f" {doc.header_text}" if doc.header_text else "")
    blocks = ["\n".join([first_line, *_header_lines(doc, kind)])]
    blocks += [f"STYLE\n{style}" for style in doc.styles]
    blocks += [f"REGION\n{region}" for region in doc.regions]
    notes = sorted(doc.notes, key=lambda note: note.before_cue)
    note_index = 0
    for cue_index, cue in enumerate([*doc.cues, None]):
        while note_index < len(notes) and notes[note_index].before_cue <= cue_index:
            blocks.append(notes[note_index].text)
            note_index += 1
        if cue is None:
            break
        if cue.data:
            blocks.append(_data_note(cue.data))
        blocks.append(_cue_block(cue))
    return "\n\n".join(blocks) + "\n"
