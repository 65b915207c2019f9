"""Small real media made with ffmpeg's generators, once per session, and the shared example."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from avp.media.ffmpeg import run

EXAMPLE_NAME = "video/example-720p.mp4"
SIZE = "320x240"


def make(out: Path, *args: str) -> Path:
    """Run ffmpeg with `args` writing `out`; raises if ffmpeg fails."""
    run(["-y", "-loglevel", "error", *args, out], timeout=60)
    return out


@pytest.fixture(scope="session")
def make_media() -> Callable[..., Path]:
    """`make` for tests that need one more file of their own."""
    return make


@pytest.fixture(scope="session")
def media_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def h264_aac48(media_tmp: Path) -> Path:
    """Already mezzanine-shaped: H.264 yuv420p + AAC 48 kHz stereo, 2 s."""
    return make(
        media_tmp / "h264_aac48.mp4",
        "-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate=25:duration=2",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2",
        "-ac", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
    )


@pytest.fixture(scope="session")
def ntsc_mono(media_tmp: Path) -> Path:
    """29.97 fps H.264 with 44.1 kHz mono AAC: the video fits, the audio does not."""
    return make(
        media_tmp / "ntsc_mono.mp4",
        "-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate=30000/1001:duration=2",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
    )


@pytest.fixture(scope="session")
def rotated(media_tmp: Path, h264_aac48: Path) -> Path:
    """The suitable clip with a display matrix asking for a 90° counter-clockwise turn."""
    return make(media_tmp / "rotated.mp4", "-display_rotation", "90", "-i", str(h264_aac48), "-c", "copy")


@pytest.fixture(scope="session")
def mpeg4_silent(media_tmp: Path) -> Path:
    """MPEG-4 Part 2 video in AVI, no audio, odd height: needs encoding, evening and a silent track."""
    return make(
        media_tmp / "silent.avi",
        "-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate=25:duration=2", "-vf", "scale=320:239", "-c:v", "mpeg4",
    )


@pytest.fixture(scope="session")
def plain_mp3(media_tmp: Path) -> Path:
    return make(media_tmp / "plain.mp3", "-f", "lavfi", "-i", "sine=duration=3", "-c:a", "libmp3lame")


@pytest.fixture(scope="session")
def cover_mp3(media_tmp: Path, plain_mp3: Path) -> Path:
    """An MP3 with a red cover picture: one video stream, but it is audio only."""
    cover = make(media_tmp / "cover.png", "-f", "lavfi", "-i", "color=red:size=200x200", "-frames:v", "1")
    return make(
        media_tmp / "cover.mp3", "-i", str(plain_mp3), "-i", str(cover), "-map", "0", "-map", "1",
        "-c:a", "copy", "-c:v", "mjpeg", "-disposition:v", "attached_pic",
    )


@pytest.fixture(scope="session")
def cuts(media_tmp: Path) -> Path:
    """Red 1.5 s | blue 2 s | test pattern 1 s | green flash 0.2 s | yellow 1.3 s, at 10 fps."""
    parts = [("color=c=red", 1.5), ("color=c=blue", 2), ("testsrc2=sar=1", 1), ("color=c=green", 0.2),
             ("color=c=yellow", 1.3)]
    inputs: list[str] = []
    for source, seconds in parts:
        inputs += ["-f", "lavfi", "-i", f"{source}:size=160x120:rate=10:duration={seconds}"]
    streams = "".join(f"[{i}]" for i in range(len(parts)))
    return make(
        media_tmp / "cuts.mp4", *inputs, "-filter_complex", f"{streams}concat=n={len(parts)}:v=1:a=0",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
    )


@pytest.fixture(scope="session")
def example(media_dir: Path) -> Path:
    """The 42.4 s example video of the in-repository test media (tests/data)."""
    return media_dir / EXAMPLE_NAME
