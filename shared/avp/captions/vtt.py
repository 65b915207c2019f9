"""WebVTT reading and writing, following the W3C WebVTT parsing rules (section 6, "Parsing").

The parser walks the file block by block exactly as the W3C algorithm does (the
web-platform-tests `webvtt/parsing` suite is the reference), so the lenient parse keeps
what a browser keeps: a block whose timing line does not parse is dropped, a line with
"-->" ends its block and starts the next cue, NULs become U+FFFD. Each such recovery is
recorded as a problem with its line. Problems that lose content or break the syntax (a
dropped block, a missing blank line, a NUL, cues out of order) are errors: strict mode,
for uploads and edits, reads the whole file and then raises one `VttParseError` listing
every error with its line. A cue setting a browser ignores is only a warning, in both modes.

Cue settings are processed in order as "parse the WebVTT cue settings" (6.3) says: a
setting whose value is invalid is skipped and leaves any earlier valid value in place;
`Cue.settings` holds the settings that take effect, so writing them back gives a browser
the same cue. REGION blocks are read into `VttRegion`s (6.2) and a cue's `region` setting
is kept only while it names a region and no later `vertical`, `line` or `size` takes the
cue out of it; `VttDocument.layout` gives a cue's settings as a browser's VTTCue has them.

Round trips keep: the header line and header metadata lines, STYLE blocks, REGION
definitions, NOTE blocks at their place among the cues, cue identifiers and settings.
A descriptions track says so with a `Kind: descriptions` header metadata line. Per-cue
metadata (`Cue.data`) is written as `NOTE avp {json}` right before its cue; players ignore
NOTE blocks and the parser puts the data back on the cue.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Any

from avp.captions.errors import VttParseError
from avp.captions.model import Cue

SIGNATURE = "WEBVTT"
DATA_NOTE_PREFIX = "NOTE avp "
KIND_HEADER = "Kind"
ARROW = "-->"
BOM = "\ufeff"

_WHITESPACE = " \t\f\r\n"  # ASCII whitespace, as the W3C rules mean it
_SPACES = re.compile(r"[ \t\f\r\n]+")
_DIGITS = re.compile(r"[0-9]*")
_PERCENTAGE = re.compile(r"[0-9]+(?:\.[0-9]+)?%")  # the syntax of a "WebVTT percentage"
_LINE_ALIGNMENTS = ("start", "center", "end")
_POSITION_ALIGNMENTS = ("line-left", "center", "line-right")
_TEXT_ALIGNMENTS = ("start", "center", "end", "left", "right")


@dataclass(frozen=True)
class VttWarning:
    """Something the W3C rules skip or ignore, at a 1-based line of the input. `error`
    problems lose content or break the syntax; strict mode refuses a file that has any."""

    line: int
    message: str
    error: bool = False


@dataclass(frozen=True)
class VttNote:
    """A NOTE block kept verbatim (`text` starts with "NOTE") and the index of the cue it
    precedes (`len(cues)` when it comes after the last cue)."""

    text: str
    before_cue: int


@dataclass(frozen=True)
class VttRegion:
    """A REGION definition as "collect WebVTT region settings" (W3C 6.2) reads it. Widths and
    anchors are percentages; the defaults are the spec's (100% wide, 3 lines, both anchors
    at 0%,100%, no scrolling)."""

    id: str = ""
    width: float = 100.0
    lines: int = 3
    region_anchor: tuple[float, float] = (0.0, 100.0)
    viewport_anchor: tuple[float, float] = (0.0, 100.0)
    scroll: str = ""  # "up" or "" (none)

    def settings_text(self) -> str:
        """The region's settings as a REGION block body writes them (defaults left out)."""
        parts = [f"id:{self.id}"] if self.id else []
        if self.width != 100:
            parts.append(f"width:{_decimal(self.width)}%")
        if self.lines != 3:
            parts.append(f"lines:{self.lines}")
        for name, (x, y) in (("regionanchor", self.region_anchor), ("viewportanchor", self.viewport_anchor)):
            if (x, y) != (0, 100):
                parts.append(f"{name}:{_decimal(x)}%,{_decimal(y)}%")
        if self.scroll:
            parts.append(f"scroll:{self.scroll}")
        return " ".join(parts)


@dataclass(frozen=True)
class CueLayout:
    """A cue's settings as the W3C parser sets them on a cue (the VTTCue attributes):
    `line` and `position` are None for auto, `region` the region the cue is shown in."""

    vertical: str = ""  # "" (horizontal), "rl" or "lr"
    line: float | None = None
    snap_to_lines: bool = True
    line_align: str = "start"
    position: float | None = None
    position_align: str = "auto"
    size: float = 100.0
    align: str = "center"
    region: VttRegion | None = None


@dataclass
class VttDocument:
    """A parsed WebVTT file. `header_text` is what follows "WEBVTT" on the first line;
    `header_lines` the metadata lines under it (such as "Kind: descriptions"); `styles` the
    bodies of STYLE blocks, verbatim; `regions` the REGION definitions in file order."""

    cues: list[Cue] = field(default_factory=list)
    header_text: str = ""
    header_lines: list[str] = field(default_factory=list)
    notes: list[VttNote] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    regions: list[VttRegion] = field(default_factory=list)
    warnings: list[VttWarning] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        """The track kind from a `Kind:` header metadata line, if there is one."""
        for line in self.header_lines:
            if _is_kind_line(line):
                return line.partition(":")[2].strip()
        return None

    @property
    def errors(self) -> list[VttWarning]:
        """The problems that make strict mode refuse the file."""
        return [w for w in self.warnings if w.error]

    def layout(self, cue: Cue) -> CueLayout:
        """The cue's settings as a browser applies them, its region resolved in this file."""
        text = " ".join(f"{name}:{value}" for name, value in cue.settings.items())
        return parse_cue_settings(text, self.regions)[1]


def _is_kind_line(line: str) -> bool:
    name, colon, _ = line.partition(":")
    return bool(colon) and name.strip().casefold() == KIND_HEADER.casefold()


def _decimal(value: float) -> str:
    """A number without exponent, as WebVTT percentages and line numbers are written."""
    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


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
    # More than 18 digits of hours is no media time (and Python refuses int() of thousands).
    if not first or len(first) > 18:
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


def split_on_spaces(text: str) -> list[str]:
    """The tokens of `text` between runs of ASCII whitespace ("split a string on spaces";
    other white space, such as a vertical tab, belongs to the tokens)."""
    return [token for token in _SPACES.split(text) if token]


def parse_percentage(text: str) -> float | None:
    """W3C "parse a percentage string" (6.2): digits, optionally a dot and digits, then
    "%", in 0..100; None when it fails."""
    if not _PERCENTAGE.fullmatch(text):
        return None
    value = float(text[:-1])
    return value if 0 <= value <= 100 else None


def _line_number(text: str) -> float | None:
    """A `line` setting's number (6.3): an optional leading minus, digits and at most one dot
    between digits, read as the HTML rules for floating-point numbers do. A number that
    rounds beyond the largest double is an error there, so it is None here too."""
    if any(c not in "-.0123456789" for c in text) or "-" in text[1:] or text.count(".") > 1:
        return None
    if "." in text:
        dot = text.index(".")
        if dot in (0, len(text) - 1) or not (text[dot - 1].isdigit() and text[dot + 1].isdigit()):
            return None
    value = float(text)
    return None if math.isinf(value) else value + 0.0  # the HTML rules have no -0


_DEFAULT_LAYOUT = {f.name: getattr(CueLayout(), f.name) for f in fields(CueLayout)}


class _Settings:
    """The state of one run of "parse the WebVTT cue settings": the cue's attributes as set
    so far (a plain dict: a frozen layout per token would triple the parse time) and, per
    setting, the text that set it."""

    def __init__(self) -> None:
        self.cue: dict[str, Any] = dict(_DEFAULT_LAYOUT)
        self.texts: dict[str, str] = {}
        self.problems: list[str] = []

    @property
    def layout(self) -> CueLayout:
        return CueLayout(**self.cue)

    def leave_region(self, why: str) -> None:
        if self.cue["region"] is not None:
            self.problems.append(f"region:{self.cue['region'].id} no longer applies: {why} takes the cue out of it")
            self.cue["region"] = None

    def apply(self, name: str, value: str, regions: Mapping[str, VttRegion]) -> str | None:
        """Apply one setting as the spec's per-name steps do; returns why it was skipped.
        `regions` maps each region id to the last region with that id."""
        cue = self.cue
        if name == "region":
            cue["region"] = regions.get(value)
            return None if cue["region"] else f"no REGION has id {value!r}, so the cue has no region"
        if name == "vertical":
            if value in ("rl", "lr"):
                cue["vertical"] = self.texts[name] = value
            if cue["vertical"]:
                self.leave_region("a vertical cue")
            return None if value in ("rl", "lr") else "vertical must be rl or lr"
        if name == "line":
            return self._line(value)
        if name == "position":
            position, comma, align = value.partition(",")
            number = parse_percentage(position)
            if number is None:
                return f"position {position!r} is not a percentage in 0-100%"
            if comma and align not in _POSITION_ALIGNMENTS:
                return f"position alignment {align!r} is not line-left, center or line-right"
            cue["position"], self.texts[name] = number, position
            if comma:
                cue["position_align"] = align
            return None
        if name == "size":
            number = parse_percentage(value)
            if number is None:
                return f"size {value!r} is not a percentage in 0-100%"
            cue["size"], self.texts[name] = number, value
            if number != 100:
                self.leave_region("a size other than 100%")
            return None
        if name == "align":
            if value not in _TEXT_ALIGNMENTS:
                return f"align {value!r} is not start, center, end, left or right"
            cue["align"] = self.texts[name] = value
            return None
        return f"unknown cue setting {name!r}"

    def _line(self, value: str) -> str | None:
        position, comma, align = value.partition(",")
        if not any(c.isdigit() for c in position):
            return f"line {position!r} has no digits"
        percent = position.endswith("%")
        number = parse_percentage(position) if percent else _line_number(position)
        if number is None:
            return f"line {position!r} is not " + ("a percentage in 0-100%" if percent else "a finite line number")
        if comma and align not in _LINE_ALIGNMENTS:
            return f"line alignment {align!r} is not start, center or end"
        self.cue.update(line=number, snap_to_lines=not percent)
        if comma:
            self.cue["line_align"] = align
        self.texts["line"] = position
        self.leave_region("a line position")
        return None

    def effective(self) -> dict[str, str]:
        """The settings that take effect, as text that gives a browser the same cue. The
        region comes last: only a vertical, line or size after it could take the cue out."""
        cue, out = self.cue, {}
        for name in ("vertical", "line", "position", "size", "align"):
            if name in self.texts:
                out[name] = self.texts[name]
        if cue["line_align"] != "start":
            out["line"] += f",{cue['line_align']}"
        if cue["position_align"] != "auto":
            out["position"] += f",{cue['position_align']}"
        if cue["region"] is not None:
            out["region"] = cue["region"].id
        return out


def parse_cue_settings(text: str, regions: Sequence[VttRegion] | Mapping[str, VttRegion] = ()
                       ) -> tuple[dict[str, str], CueLayout, list[str]]:
    """W3C "parse the WebVTT cue settings" (6.3) on the text after a cue's end time: each
    name:value token in order, a token whose value is invalid skipped without touching
    earlier ones. `regions` are the file's regions in order (or already by id, the last of
    each id). Returns the settings that take effect (name -> value text), the cue's layout,
    and why each skipped or overridden token does nothing."""
    if not isinstance(regions, Mapping):
        regions = {region.id: region for region in regions}  # the last region of each id wins
    state = _Settings()
    for token in split_on_spaces(text):
        name, colon, value = token.partition(":")
        if not colon or not name or not value:
            state.problems.append(f"cue setting {token!r} is not name:value")
            continue
        problem = state.apply(name, value, regions)
        if problem:
            state.problems.append(f"{token}: {problem}")
    return state.effective(), state.layout, state.problems


def parse_region_settings(text: str) -> tuple[VttRegion, list[str]]:
    """W3C "collect WebVTT region settings" (6.2) on a REGION block's body: each name:value
    token in order, an invalid value skipped. Returns the region and the skipped tokens."""
    region, problems = VttRegion(), []
    for token in split_on_spaces(text):
        name, colon, value = token.partition(":")
        problem = None
        if not colon or not name or not value:
            problem = "not name:value"
        elif name == "id":
            region = replace(region, id=value)
        elif name == "width":
            width = parse_percentage(value)
            region, problem = (replace(region, width=width), None) if width is not None else (region, "not a percentage in 0-100%")
        elif name == "lines":
            # Python refuses int() of thousands of digits; no region has that many lines anyway.
            region, problem = (replace(region, lines=int(value)), None) \
                if value.isascii() and value.isdigit() and len(value) <= 100 else (region, "not a whole number")
        elif name in ("regionanchor", "viewportanchor"):
            x, comma, y = value.partition(",")
            anchor = (parse_percentage(x), parse_percentage(y))
            if not comma or None in anchor:
                problem = "not two percentages in 0-100% separated by a comma"
            else:
                region = replace(region, **{"region_anchor" if name == "regionanchor" else "viewport_anchor": anchor})
        elif name == "scroll":
            region, problem = (replace(region, scroll="up"), None) if value == "up" else (region, "scroll must be up")
        else:
            problem = f"unknown region setting {name!r}"
        if problem:
            problems.append(f"{token}: {problem}")
    return region, problems


# ------------------------------------------------------------------------------- parser


class _Parser:
    """One pass of the W3C block loop (6.1) over the input's lines."""

    def __init__(self, text: str) -> None:
        self.doc = VttDocument()
        self.lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for number, line in enumerate(self.lines, start=1):
            if "\0" in line:
                self._problem(number, "NUL character (read as U+FFFD)")
                self.lines[number - 1] = line.replace("\0", "\ufffd")
        self.index = 0
        self.seen_cue = False
        self.regions: dict[str, VttRegion] = {}  # by id, the last of each: a cue's lookup is O(1)
        self.pending_data: tuple[dict[str, object], VttNote] | None = None

    def _problem(self, line: int, message: str, *, error: bool = True) -> None:
        self.doc.warnings.append(VttWarning(line, message, error))

    def parse(self) -> VttDocument:
        # The UTF-8 decoder removes one byte order mark; a second one is text, and a file
        # that does not start with "WEBVTT" then is no WebVTT file.
        first = self.lines[0].removeprefix(BOM)
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
        self.doc.warnings.sort(key=lambda w: w.line)
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
        elif not self.seen_cue and len(lines) > 1 and head.rstrip(_WHITESPACE) == "STYLE":
            self.doc.styles.append("\n".join(lines[1:]))
        elif not self.seen_cue and len(lines) > 1 and head.rstrip(_WHITESPACE) == "REGION":
            self._region("\n".join(lines[1:]), line_number)
        else:
            self._flush_pending_data()
            what = "STYLE/REGION block after the first cue" if head.startswith(("STYLE", "REGION")) else \
                "block is neither a cue, a NOTE, a STYLE nor a REGION (no valid timing line)"
            self._problem(line_number, f"{what}: skipped")

    def _region(self, body: str, line_number: int) -> None:
        region, problems = parse_region_settings(body)
        for problem in problems:
            self._problem(line_number, f"REGION setting {problem} (ignored)", error=False)
        if not region.id:
            self._problem(line_number, "REGION without an id: no cue can use it", error=False)
        elif region.id in self.regions:
            self._problem(line_number, f"REGION id {region.id!r} is used before: cues use the last one", error=False)
        self.doc.regions.append(region)
        self.regions[region.id] = region

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
        """W3C "collect WebVTT cue timings and settings" (6.3), or None (after a problem)."""
        rest = line.lstrip(_WHITESPACE)
        start, rest = _collect_timestamp(rest)
        rest = rest.lstrip(_WHITESPACE)
        if start is None or not rest.startswith(ARROW):
            self._problem(line_number, f"invalid cue start time or arrow in {line!r}: cue skipped")
            return None
        end, rest = _collect_timestamp(rest[len(ARROW):].lstrip(_WHITESPACE))
        if end is None:
            self._problem(line_number, f"invalid cue end time in {line!r}: cue skipped")
            return None
        if rest and rest[0] not in _WHITESPACE:
            self._problem(line_number, f"no space between the end time and the settings in {line!r}", error=False)
        settings, _, problems = parse_cue_settings(rest, self.regions)
        for problem in problems:
            self._problem(line_number, f"{problem} (players ignore it)", error=False)
        return start, end, settings


def parse_vtt(text: str, *, strict: bool = True) -> VttDocument:
    """Parse a WebVTT file the way a browser does, listing each problem in `warnings`.
    Strict mode (uploads and edits) then raises one `VttParseError` naming every error (a
    skipped block, a missing blank line, a NUL, cues out of order) with its line. A file
    without the WEBVTT signature is rejected in both modes."""
    doc = _Parser(text).parse()
    if strict and doc.errors:
        first = doc.errors[0]
        raise VttParseError(first.message, first.line, [(e.line, e.message) for e in doc.errors])
    return doc


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
    # A region without an id is one no cue can use (and an empty REGION block is no block).
    blocks += [f"REGION\n{region.settings_text()}" for region in doc.regions if region.id]
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
