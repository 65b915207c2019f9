"""Probe a media file with ffmpeg alone and refuse, with a readable reason, what we cannot use."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from avp.media.errors import MediaError
from avp.media.header import InputHeader, complaint, parse_input_header, parse_progress
from avp.media.info import MediaInfo
from avp.media.runner import run_media

# Shorter than this there is nothing to caption or describe (one frame at 10 fps).
MIN_DURATION = 0.1
# Decoding this much of the start proves the codec data is real without decoding it all.
DECODE_CHECK_SECONDS = 3.0
PROBE_TIMEOUT = 120.0
_STILL_IMAGE_FORMATS = re.compile(r"^(image2|\w+_pipe)$")
# ffmpeg "plays" these by rendering bytes as text-mode art: any random file named .bin opens.
_TEXT_ART_FORMATS = {"bin", "tty", "adf", "idf", "xbin"}


def probe(path: str | Path) -> MediaInfo:
    """Describe the media at `path`, or raise `MediaError` saying why it cannot be used.

    Two quick ffmpeg runs: a packet copy to nowhere (reads the header and every packet
    without decoding, a few thousand times real time) gives the streams and the real
    end of the data; decoding the first seconds proves the streams can be decoded.
    """
    source = Path(path)
    if not source.is_file():
        raise MediaError(f"The file {source.name} does not exist.")
    if source.stat().st_size == 0:
        raise MediaError("The file is empty (0 bytes).")
    copied = _read(["-i", source, "-c", "copy", "-f", "null", "-"])
    header = parse_input_header(copied.stderr)
    if header is None:
        raise MediaError(
            f"This is not a video or audio file that can be read ({complaint(copied.stderr)})."
        )
    info = _media_info(header, parse_progress(copied.stderr).time)
    _check_decodes(source, info)
    return info


def _media_info(header: InputHeader, packets_end: float | None) -> MediaInfo:
    if header.format_name in _TEXT_ART_FORMATS:
        raise MediaError("This is not a video or audio file that can be read (it looks like text or data).")
    if header.video is None and header.audio is None:
        found = ", ".join(sorted(set(header.other_streams))) or "no streams at all"
        raise MediaError(f"The file has no video or audio stream (found: {found}).")
    if _STILL_IMAGE_FORMATS.match(header.format_name) and header.audio is None:
        raise MediaError(f"This is a still image ({header.format_name}), not a video or audio file.")
    data_length = None if packets_end is None else packets_end - header.start
    duration = header.duration if header.duration is not None else data_length
    lengths = [duration, data_length]
    if duration is None or any(length is not None and length < MIN_DURATION for length in lengths):
        raise MediaError("The file has no length: it holds no playable video or audio (duration 0 s).")
    if data_length is not None and data_length + max(1.0, 0.05 * duration) < duration:
        raise MediaError(
            f"The file is incomplete: its data ends at {data_length:.1f} s of a stated {duration:.1f} s "
            "(an interrupted upload or copy?). Please upload it again."
        )
    return MediaInfo(
        format_name=header.format_name,
        duration=duration,
        video=header.video,
        audio=header.audio,
        bitrate=header.bitrate,
        cover_art=header.cover_art,
    )


def _check_decodes(source: Path, info: MediaInfo) -> None:
    decoded = _read(["-i", source, "-t", f"{DECODE_CHECK_SECONDS:g}", "-f", "null", "-"])
    progress = parse_progress(decoded.stderr)
    pictures = (progress.frames or 0) > 0
    if info.has_video and not pictures:
        broken = "video"
    elif decoded.returncode != 0 or not progress.time:
        # Pictures came out, so whatever failed is the sound (or the video, when there is none).
        broken = "audio" if info.has_audio else "video"
    else:
        return
    raise MediaError(f"The file is damaged: its {broken} could not be decoded ({complaint(decoded.stderr)}).")


def _read(args: list[str | Path]) -> subprocess.CompletedProcess[str]:
    # check=False: a failing run is what we came to diagnose, its stderr says why.
    return run_media(args, timeout=PROBE_TIMEOUT, action="Reading the file", check=False)
