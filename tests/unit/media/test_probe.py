"""probe() with the real ffmpeg on generated clips, the shared example, and broken files."""
from __future__ import annotations

import os
import random
import wave
from collections.abc import Callable
from pathlib import Path

import pytest

from avp.media.errors import MediaError
from avp.media.probe import probe


def test_suitable_clip(h264_aac48: Path) -> None:
    info = probe(h264_aac48)
    assert info.format_name.startswith("mov,mp4")
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert info.video is not None and info.audio is not None
    assert (info.video.codec, info.video.width, info.video.height) == ("h264", 320, 240)
    assert (info.video.fps, info.video.fps_rational, info.video.pixel_format) == (25.0, "25/1", "yuv420p")
    assert info.video.rotation == 0
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("aac", 48000, 2)
    assert info.bitrate and info.bitrate > 0
    assert info.has_video and info.has_audio and not info.is_audio_only


def test_ntsc_rate_and_mono(ntsc_mono: Path) -> None:
    info = probe(ntsc_mono)
    assert info.video is not None and info.video.fps_rational == "30000/1001"
    assert info.video.fps == pytest.approx(29.97)
    assert info.audio is not None and (info.audio.sample_rate, info.audio.channels) == (44100, 1)


def test_rotation_from_display_matrix(rotated: Path) -> None:
    video = probe(rotated).video
    assert video is not None
    assert video.rotation == 270  # 90° counter-clockwise
    assert (video.display_width, video.display_height) == (240, 320)


def test_mp3_with_cover_art_is_audio_only(cover_mp3: Path) -> None:
    info = probe(cover_mp3)
    assert info.is_audio_only and info.cover_art
    assert info.video is None
    assert info.audio is not None and info.audio.codec == "mp3"
    assert info.duration == pytest.approx(3.0, abs=0.1)


def test_video_without_audio(mpeg4_silent: Path) -> None:
    info = probe(mpeg4_silent)
    assert info.has_video and not info.has_audio and not info.is_audio_only
    assert info.video is not None and (info.video.codec, info.video.height) == ("mpeg4", 239)


@pytest.mark.slow
def test_example_video(example: Path) -> None:
    info = probe(example)
    assert info.duration == pytest.approx(42.4, abs=0.05)
    assert info.video is not None and info.audio is not None
    assert (info.video.codec, info.video.width, info.video.height) == ("h264", 1280, 720)
    assert (info.video.fps_rational, info.video.pixel_format, info.video.rotation) == ("30/1", "yuv420p", 0)
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("aac", 48000, 2)


# --- files that must be refused, each with a reason a person can act on ---------------------

def _refusal(path: Path) -> MediaError:
    with pytest.raises(MediaError) as caught:
        probe(path)
    assert caught.value.permanent
    return caught.value


def test_renamed_text_file(tmp_path: Path) -> None:
    path = tmp_path / "holiday.mp4"
    path.write_text("These are my notes, not a video.\n" * 20)
    assert "not a video or audio file" in _refusal(path).reason


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    assert _refusal(path).reason == "The file is empty (0 bytes)."


@pytest.mark.parametrize("name", ["noise", "noise.bin", "noise.mp4"])
def test_random_bytes(tmp_path: Path, name: str) -> None:
    # ".bin" matters: ffmpeg would render any such file as a "video" of text-mode art.
    path = tmp_path / name
    path.write_bytes(random.Random(7).randbytes(64_000))
    assert "not a video or audio file" in _refusal(path).reason


def test_middle_bytes_of_a_real_mp4(tmp_path: Path, h264_aac48: Path) -> None:
    data = h264_aac48.read_bytes()
    path = tmp_path / "middle.mp4"
    path.write_bytes(data[len(data) // 4: 3 * len(data) // 4])
    assert "not a video or audio file" in _refusal(path).reason


def test_truncated_upload(tmp_path: Path, h264_aac48: Path, make_media: Callable[..., Path]) -> None:
    # +faststart puts the index first, so a cut-off upload still opens but lacks its end.
    whole = make_media(tmp_path / "faststart.mp4", "-i", str(h264_aac48), "-c", "copy", "-movflags", "+faststart")
    data = whole.read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 3])
    assert "incomplete" in _refusal(path).reason


def test_garbled_media_data(tmp_path: Path, h264_aac48: Path) -> None:
    data = bytearray(h264_aac48.read_bytes())
    start, end = data.find(b"mdat") + 4, data.find(b"moov") - 4
    assert 0 < start < end, "expected mdat before moov"
    data[start:end] = os.urandom(end - start)
    path = tmp_path / "garbled.mp4"
    path.write_bytes(bytes(data))
    assert "damaged" in _refusal(path).reason


def test_caption_file_has_no_media_streams(tmp_path: Path) -> None:
    path = tmp_path / "captions.mp4"
    path.write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n")
    assert _refusal(path).reason == "The file has no video or audio stream (found: subtitle)."


def test_wav_without_samples_has_zero_duration(tmp_path: Path) -> None:
    path = tmp_path / "nothing.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
    assert "no length" in _refusal(path).reason


def test_still_image(tmp_path: Path, make_media: Callable[..., Path]) -> None:
    image = make_media(tmp_path / "still.png", "-f", "lavfi", "-i", "color=red:size=64x64", "-frames:v", "1")
    assert "still image" in _refusal(image).reason
