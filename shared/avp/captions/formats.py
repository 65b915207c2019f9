"""Caption export formats besides WebVTT: SubRip (SRT) both ways and TTML (IMSC1 text
profile) out, plus `export`, the one dispatch the download routes call."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Literal

from avp.captions.cuetext import escape_text, tokenize
from avp.captions.errors import SrtParseError
from avp.captions.model import Cue
from avp.captions.vtt import format_timestamp, write_vtt

ExportFormat = Literal["vtt", "srt", "ttml"]

MEDIA_TYPES: dict[str, str] = {
    "vtt": "text/vtt",
    "srt": "application/x-subrip",
    "ttml": "application/ttml+xml",
}

TT_NS = "http://www.w3.org/ns/ttml"
TTP_NS = "http://www.w3.org/ns/ttml#parameter"
TTS_NS = "http://www.w3.org/ns/ttml#styling"
XML_NS = "http://www.w3.org/XML/1998/namespace"
IMSC1_TEXT_PROFILE = "http://www.w3.org/ns/ttml/profile/imsc1/text"

# Markup both SubRip players and WebVTT understand; other tags are dropped in SRT.
_SRT_TAGS = ("b", "i", "u")
_SRT_TAG = re.compile(r"</?([biu])>", re.IGNORECASE)
_SRT_OTHER_TAG = re.compile(r"</?font[^>]*>", re.IGNORECASE)
_SRT_TIMING = re.compile(
    r"\s*(\d+):(\d{2}):(\d{2})[,.](\d{3})\s*-->\s*(\d+):(\d{2}):(\d{2})[,.](\d{3})(?:\s.*)?")
_TTML_STYLES = {"i": ("fontStyle", "italic"), "b": ("fontWeight", "bold"), "u": ("textDecoration", "underline")}


# ---------------------------------------------------------------------------------- SRT


def _srt_text(payload: str) -> str:
    parts: list[str] = []
    for token in tokenize(payload):
        if token.kind == "text":
            parts.append(token.value)
        elif token.name in _SRT_TAGS and token.kind in ("start", "end"):
            parts.append(f"<{'/' if token.kind == 'end' else ''}{token.name}>")
    return "\n".join(line.strip() for line in "".join(parts).split("\n") if line.strip())


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip text: numbered blocks, `hh:mm:ss,mmm` times, <b>/<i>/<u> kept, other
    markup removed and character references decoded."""
    blocks = [f"{number}\n{format_timestamp(cue.start, ',')} --> {format_timestamp(cue.end, ',')}\n{_srt_text(cue.text)}"
              for number, cue in enumerate(cues, start=1)]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _vtt_payload(srt_text: str) -> str:
    """SubRip text as a WebVTT payload: b/i/u tags kept, font tags dropped, the rest escaped."""
    text = _SRT_OTHER_TAG.sub("", srt_text)
    pieces: list[str] = []
    position = 0
    for match in _SRT_TAG.finditer(text):
        pieces.append(escape_text(text[position:match.start()]))
        pieces.append(match.group().lower())
        position = match.end()
    pieces.append(escape_text(text[position:]))
    return "".join(pieces)


def _seconds(groups: Sequence[str]) -> float:
    hours, minutes, secs, millis = (int(g) for g in groups)
    return hours * 3600 + minutes * 60 + secs + millis / 1000


def from_srt(text: str) -> list[Cue]:
    """Cues from a SubRip file (BOM, CRLF, missing index lines and a `.` before the
    milliseconds tolerated). A block without a timing line raises `SrtParseError`."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cues: list[Cue] = []
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        identifier = ""
        if lines[index].strip().isdigit() and index + 1 < len(lines) and "-->" in lines[index + 1]:
            identifier = lines[index].strip()
            index += 1
        timing = _SRT_TIMING.fullmatch(lines[index])
        if timing is None:
            raise SrtParseError(f"expected a timing line like '00:00:01,000 --> 00:00:02,000', "
                                f"got {lines[index]!r}", index + 1)
        start, end = _seconds(timing.groups()[:4]), _seconds(timing.groups()[4:])
        if end <= start:
            raise SrtParseError("cue ends at or before it starts", index + 1)
        index += 1
        text_lines: list[str] = []
        while index < len(lines) and lines[index].strip():
            text_lines.append(lines[index])
            index += 1
        cues.append(Cue(start, end, _vtt_payload("\n".join(text_lines)), identifier))
    return cues


# --------------------------------------------------------------------------------- TTML


def _ttml_paragraph(parent: ET.Element, cue: Cue) -> None:
    """Append a <p> for the cue: text XML-escaped by ElementTree, line breaks as <br/>,
    <i>/<b>/<u> as styled spans, other markup dropped."""
    paragraph = ET.SubElement(parent, f"{{{TT_NS}}}p",
                              {"begin": format_timestamp(cue.start), "end": format_timestamp(cue.end)})
    stack = [paragraph]
    last: ET.Element | None = None  # the element whose tail takes the next text

    def add_text(text: str) -> None:
        nonlocal last
        if last is None:
            stack[-1].text = (stack[-1].text or "") + text
        else:
            last.tail = (last.tail or "") + text

    for token in tokenize(cue.text):
        if token.kind == "text":
            for number, line in enumerate(token.value.split("\n")):
                if number:
                    last = ET.SubElement(stack[-1], f"{{{TT_NS}}}br")
                add_text(line)
        elif token.kind == "start" and token.name in _TTML_STYLES:
            name, value = _TTML_STYLES[token.name]
            stack.append(ET.SubElement(stack[-1], f"{{{TT_NS}}}span", {f"{{{TTS_NS}}}{name}": value}))
            last = None
        elif token.kind == "end" and token.name in _TTML_STYLES and len(stack) > 1:
            last = stack.pop()


def to_ttml(cues: Sequence[Cue], lang: str) -> str:
    """A TTML document in the IMSC1 text profile: white text at the bottom of the
    picture, times as `hh:mm:ss.mmm` on the media timeline."""
    ET.register_namespace("", TT_NS)
    ET.register_namespace("ttp", TTP_NS)
    ET.register_namespace("tts", TTS_NS)
    root = ET.Element(f"{{{TT_NS}}}tt", {
        f"{{{XML_NS}}}lang": lang,
        f"{{{TTP_NS}}}profile": IMSC1_TEXT_PROFILE,
        f"{{{TTP_NS}}}timeBase": "media",
    })
    head = ET.SubElement(root, f"{{{TT_NS}}}head")
    styling = ET.SubElement(head, f"{{{TT_NS}}}styling")
    ET.SubElement(styling, f"{{{TT_NS}}}style", {
        f"{{{XML_NS}}}id": "caption",
        f"{{{TTS_NS}}}color": "white",
        f"{{{TTS_NS}}}backgroundColor": "black",
        f"{{{TTS_NS}}}fontFamily": "proportionalSansSerif",
        f"{{{TTS_NS}}}textAlign": "center",
    })
    layout = ET.SubElement(head, f"{{{TT_NS}}}layout")
    ET.SubElement(layout, f"{{{TT_NS}}}region", {
        f"{{{XML_NS}}}id": "bottom",
        f"{{{TTS_NS}}}origin": "10% 10%",
        f"{{{TTS_NS}}}extent": "80% 80%",
        f"{{{TTS_NS}}}displayAlign": "after",
    })
    body = ET.SubElement(root, f"{{{TT_NS}}}body", {"region": "bottom", "style": "caption"})
    division = ET.SubElement(body, f"{{{TT_NS}}}div")
    for cue in cues:
        _ttml_paragraph(division, cue)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# ------------------------------------------------------------------------------- export


def export(cues: Sequence[Cue], fmt: str, lang: str) -> str:
    """The cues in `fmt` ("vtt", "srt" or "ttml"); `lang` is the track's BCP 47 tag."""
    if fmt == "vtt":
        return write_vtt(cues)
    if fmt == "srt":
        return to_srt(cues)
    if fmt == "ttml":
        return to_ttml(cues, lang)
    raise ValueError(f"unknown caption format {fmt!r}; expected one of {', '.join(MEDIA_TYPES)}")
