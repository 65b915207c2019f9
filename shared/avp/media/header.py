"""Read what `ffmpeg -i` prints about its input and the progress line it ends with.

There is no ffprobe beside the ffmpeg that imageio-ffmpeg ships, so the stream summary
ffmpeg writes to stderr is the only description we get. Its layout is stable across
releases but not a contract, so every field is optional and parsed on its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from avp.media.info import AudioInfo, VideoInfo

_INPUT = re.compile(r"^Input #0, (?P<format>.+?), from ")
_DURATION = re.compile(
    r"Duration: (?P<dur>N/A|\d+:\d+:\d+(?:\.\d+)?)"
    r"(?:, start: (?P<start>-?[\d.]+))?, bitrate: (?P<rate>N/A|\d+)"
)
_STREAM = re.compile(r"^\s*Stream #0:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: (?P<kind>\w+): (?P<rest>.*)$")
_DISPLAY_MATRIX = re.compile(r"display ?matrix: rotation of (?P<deg>-?[\d.]+) degrees", re.IGNORECASE)
_ROTATE_TAG = re.compile(r"^\s*rotate\s*: (?P<deg>-?\d+)\s*$")
_SIZE = re.compile(r"^(?P<w>\d+)x(?P<h>\d+)")
_RATE = re.compile(r"^(?P<num>[\d.]+)(?P<k>k?) (?P<unit>fps|tbr)\b")
_KBPS = re.compile(r"^(?P<kb>\d+) kb/s")
_HZ = re.compile(r"^(?P<hz>\d+) Hz")
_PIX_FMT = re.compile(r"^(?P<fmt>[a-z0-9_]+)(?:\(.*\))?$")
_FRAME = re.compile(r"frame=\s*(?P<n>\d+)")
_TIME = re.compile(r"time=\s*(?P<t>N/A|-?\d+:\d+:\d+(?:\.\d+)?)")
_COMPLAINT = re.compile(r"invalid data|corrupt|partial file|not found|matches no streams|error", re.I)
_LOG_PREFIX = re.compile(r"^(\[[^\]]*@ 0x[0-9a-f]+\] ?)+")
_BOILERPLATE = ("Conversion failed", "Error opening input file", "Error opening output file",
                "Terminating thread", "Task finished with error")
_END_OF_INPUT = ("Stream mapping:", "Output #0", "Press [q]")

# Layout names whose channel count is not spelled in the name itself.
_NAMED_LAYOUTS = {"mono": 1, "stereo": 2, "quad": 4, "hexagonal": 6, "octagonal": 8, "downmix": 2}
# Frame rates that NTSC-derived video runs at 1000/1001 of (29.97 is 30000/1001).
_NTSC_BASES = (24, 30, 48, 60, 120, 240)


@dataclass
class InputHeader:
    """The `Input #0` block: the container, its duration and the streams we care about."""

    format_name: str
    duration: float | None = None
    start: float = 0.0
    bitrate: int | None = None
    video: VideoInfo | None = None
    audio: AudioInfo | None = None
    cover_art: bool = False
    other_streams: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Progress:
    """The last progress line: frames written and the output time reached (None when N/A)."""

    frames: int | None
    time: float | None


def parse_clock(text: str) -> float | None:
    """'01:02:03.50' -> 3723.5; 'N/A' -> None."""
    if text == "N/A":
        return None
    hours, minutes, seconds = text.split(":")
    sign = -1 if hours.startswith("-") else 1
    return sign * (abs(int(hours)) * 3600 + int(minutes) * 60 + float(seconds))


def parse_input_header(stderr: str) -> InputHeader | None:
    """The input description in ffmpeg's stderr, or None when ffmpeg could not open the input."""
    header: InputHeader | None = None
    in_video = False  # the lines after the main video stream carry its rotation
    video_fields: list[str] | None = None
    rotation = 0
    for line in stderr.splitlines():
        if header is None:
            match = _INPUT.match(line)
            if match:
                header = InputHeader(format_name=match["format"])
            continue
        if line.startswith(_END_OF_INPUT):
            break
        if match := _DURATION.search(line):
            header.duration = parse_clock(match["dur"])
            header.start = float(match["start"] or 0.0)
            header.bitrate = None if match["rate"] == "N/A" else int(match["rate"]) * 1000
        elif match := _STREAM.match(line):
            kind, rest = match["kind"].lower(), match["rest"]
            in_video = False
            if kind == "video" and "(attached pic)" not in rest and video_fields is None:
                video_fields = split_fields(rest)
                in_video = True
            else:
                _take_stream(header, kind, rest)
        elif in_video:
            if m := _DISPLAY_MATRIX.search(line):
                # ffmpeg reports the matrix as a counter-clockwise angle.
                rotation = _quarter_turns(-float(m["deg"]))
            elif m := _ROTATE_TAG.match(line):
                rotation = _quarter_turns(float(m["deg"]))
    if header is not None and video_fields is not None:
        header.video = _video(video_fields, rotation)
    return header


def _quarter_turns(degrees: float) -> int:
    """Snap to 0/90/180/270: players only honour quarter turns."""
    return round(degrees / 90) * 90 % 360


def _take_stream(header: InputHeader, kind: str, rest: str) -> None:
    """Record a stream other than the main video (whose side data follows on later lines)."""
    if kind == "video":
        # A second real video stream (an alternate angle, say) is not used by the pipeline.
        header.cover_art = header.cover_art or "(attached pic)" in rest
    elif kind == "audio":
        if header.audio is None:
            header.audio = _audio(split_fields(rest))
    else:
        header.other_streams.append(kind)


def parse_progress(stderr: str) -> Progress:
    """The last `frame=... time=...` progress figures ffmpeg printed."""
    frames = [int(m["n"]) for m in _FRAME.finditer(stderr)]
    times = [m["t"] for m in _TIME.finditer(stderr)]
    return Progress(
        frames=frames[-1] if frames else None,
        time=parse_clock(times[-1]) if times else None,
    )


def split_fields(text: str) -> list[str]:
    """Split on the commas that are not inside brackets: 'yuv420p(tv, bt709), 1280x720' -> 2 fields."""
    fields: list[str] = []
    depth = 0
    start = 0
    for i, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            fields.append(text[start:i].strip())
            start = i + 1
    fields.append(text[start:].strip())
    return fields


def fps_to_rational(fps: float) -> str:
    """29.97 -> '30000/1001', 25.0 -> '25/1', 12.5 -> '25/2' (ffmpeg prints rates rounded to 2 decimals)."""
    for base in _NTSC_BASES:
        if abs(fps - base * 1000 / 1001) < 0.006:
            return f"{base * 1000}/1001"
    ratio = Fraction(fps).limit_denominator(1001)
    return f"{ratio.numerator}/{ratio.denominator}"


def _video(fields: list[str], rotation: int) -> VideoInfo:
    width = height = 0
    pixel_format: str | None = None
    bitrate: int | None = None
    rates: dict[str, float] = {}
    for position, text in enumerate(fields):
        if m := _SIZE.match(text):
            width, height = int(m["w"]), int(m["h"])
        elif m := _RATE.match(text):
            rates[m["unit"]] = float(m["num"]) * (1000 if m["k"] else 1)
        elif m := _KBPS.match(text):
            bitrate = int(m["kb"]) * 1000
        elif position == 1 and (m := _PIX_FMT.match(text)) and m["fmt"] != "none":
            pixel_format = m["fmt"]
    fps = rates.get("fps") or rates.get("tbr") or 0.0
    return VideoInfo(
        codec=_codec(fields[0]),
        width=width,
        height=height,
        fps=fps,
        fps_rational=fps_to_rational(fps) if fps else "0/1",
        pixel_format=pixel_format,
        rotation=rotation,
        bitrate=bitrate,
    )


def _audio(fields: list[str]) -> AudioInfo:
    sample_rate = 0
    layout: str | None = None
    bitrate: int | None = None
    for position, text in enumerate(fields):
        if m := _HZ.match(text):
            sample_rate = int(m["hz"])
        elif m := _KBPS.match(text):
            bitrate = int(m["kb"]) * 1000
        elif position == 2:
            layout = text
    return AudioInfo(
        codec=_codec(fields[0]),
        sample_rate=sample_rate,
        channels=channel_count(layout) if layout else 0,
        channel_layout=layout,
        bitrate=bitrate,
    )


def channel_count(layout: str) -> int:
    """'stereo' -> 2, '5.1(side)' -> 6, '3 channels' -> 3, unknown -> 0."""
    name = layout.split("(")[0].strip()
    if name in _NAMED_LAYOUTS:
        return _NAMED_LAYOUTS[name]
    if m := re.fullmatch(r"(\d+) channels", name):
        return int(m[1])
    if m := re.fullmatch(r"(\d+)\.(\d+)", name):
        return int(m[1]) + int(m[2])
    return 0


def _codec(first_field: str) -> str:
    """'h264 (High) (avc1 / 0x31637661)' -> 'h264'."""
    return first_field.split(" ", 1)[0]


def complaint(stderr: str) -> str:
    """ffmpeg's own words for what went wrong, without its log prefixes, to quote in a reason."""
    for line in stderr.splitlines():
        text = _LOG_PREFIX.sub("", line).strip()
        if _COMPLAINT.search(text) and not text.startswith(_BOILERPLATE):
            return f"ffmpeg: {text}"
    return "ffmpeg gave no reason"
