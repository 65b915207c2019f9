"""Parsing of `ffmpeg -i` stderr, on text captured from real ffmpeg runs (no ffmpeg needed)."""
from __future__ import annotations

import pytest

from avp.media.header import (
    channel_count,
    complaint,
    fps_to_rational,
    parse_clock,
    parse_input_header,
    parse_progress,
    split_fields,
)

PHONE_VIDEO = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'IMG_0001.MOV':
  Metadata:
    major_brand     : qt
    creation_time   : 2024-05-16T22:31:32.000000Z
  Duration: 00:01:02.53, start: 0.000000, bitrate: 17241 kb/s
  Stream #0:0[0x1](und): Video: hevc (Main 10) (hvc1 / 0x31637668), yuv420p10le(tv, bt2020nc/bt2020/arib-std-b67), 1920x1080, 16988 kb/s, 29.97 fps, 29.97 tbr, 600 tbn (default)
    Metadata:
      handler_name    : Core Media Video
    Side data:
      DOVI configuration record: version: 1.0, profile: 8, level: 4
      Display Matrix: rotation of -90.00 degrees
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, 5.1(side), fltp, 253 kb/s (default)
  Stream #0:2[0x3](und): Data: none (mebx / 0x7862656D), 0 kb/s (default)
  Stream #0:3[0x4](und): Video: h264 (Baseline), yuv420p, 320x240, 30 fps, 30 tbr, 30k tbn
    Side data:
      Display Matrix: rotation of 180.00 degrees
Stream mapping:
  Stream #0:0 -> #0:0 (copy)
"""

COVER_MP3 = """\
[mp3 @ 0x5555] Estimating duration from bitrate, this may be inaccurate
Input #0, mp3, from 'song.mp3':
  Duration: 00:00:03.00, start: 0.025056, bitrate: 67 kb/s
  Stream #0:0: Audio: mp3 (mp3float), 44100 Hz, mono, fltp, 64 kb/s, start 0.025057
  Stream #0:1: Video: mjpeg (Baseline), yuvj444p(pc, bt470bg/unknown/unknown), 200x200 [SAR 1:1 DAR 1:1], 90k tbr, 90k tbn, start 0.025056 (attached pic)
Stream mapping:
"""


def test_phone_video_header() -> None:
    header = parse_input_header(PHONE_VIDEO)
    assert header is not None
    assert header.format_name == "mov,mp4,m4a,3gp,3g2,mj2"
    assert header.duration == pytest.approx(62.53)
    assert header.bitrate == 17_241_000
    video = header.video
    assert video is not None
    assert (video.codec, video.width, video.height) == ("hevc", 1920, 1080)
    assert video.pixel_format == "yuv420p10le"
    assert (video.fps, video.fps_rational) == (29.97, "30000/1001")
    # -90° counter-clockwise in the matrix is the classic `rotate=90` (clockwise), shown upright as 1080x1920.
    assert video.rotation == 90
    assert (video.display_width, video.display_height) == (1080, 1920)
    assert video.bitrate == 16_988_000
    audio = header.audio
    assert audio is not None
    assert (audio.codec, audio.sample_rate, audio.channels, audio.channel_layout) == ("aac", 44100, 6, "5.1(side)")
    assert header.other_streams == ["data"]
    assert not header.cover_art


def test_cover_art_is_not_the_video() -> None:
    header = parse_input_header(COVER_MP3)
    assert header is not None
    assert header.video is None
    assert header.cover_art
    assert header.start == pytest.approx(0.025056)
    assert header.audio is not None and header.audio.channels == 1


def test_unopenable_input_has_no_header() -> None:
    stderr = "[in#0 @ 0x1] Error opening input: Invalid data found when processing input\n"
    assert parse_input_header(stderr) is None
    assert complaint(stderr) == "ffmpeg: Error opening input: Invalid data found when processing input"


def test_duration_not_available() -> None:
    header = parse_input_header("Input #0, png_pipe, from 'a.png':\n  Duration: N/A, bitrate: N/A\n")
    assert header is not None and header.duration is None and header.bitrate is None


@pytest.mark.parametrize(
    ("fps", "rational"),
    [(29.97, "30000/1001"), (23.98, "24000/1001"), (59.94, "60000/1001"), (25.0, "25/1"), (12.5, "25/2"),
     (30.0, "30/1")],
)
def test_fps_to_rational(fps: float, rational: str) -> None:
    assert fps_to_rational(fps) == rational


@pytest.mark.parametrize(
    ("layout", "count"), [("mono", 1), ("stereo", 2), ("5.1(side)", 6), ("7.1", 8), ("3 channels", 3), ("odd", 0)]
)
def test_channel_count(layout: str, count: int) -> None:
    assert channel_count(layout) == count


def test_split_fields_keeps_bracketed_commas() -> None:
    assert split_fields("h264 (High), yuv420p(tv, bt709), 1280x720 [SAR 1:1, DAR 16:9], 30 fps") == [
        "h264 (High)", "yuv420p(tv, bt709)", "1280x720 [SAR 1:1, DAR 16:9]", "30 fps",
    ]


def test_progress_takes_the_last_line() -> None:
    stderr = "frame=   10 fps=0.0 time=00:00:00.40 speed=1x\rframe=  620 fps=0.0 q=-0.0 time=00:00:20.70 speed=49x\n"
    progress = parse_progress(stderr)
    assert (progress.frames, progress.time) == (620, pytest.approx(20.7))
    assert parse_progress("size=N/A time=N/A bitrate=N/A").time is None
    assert parse_clock("01:02:03.50") == pytest.approx(3723.5)
