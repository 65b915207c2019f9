"""make_mezzanine and extract_speech_wav with the real ffmpeg: which path is taken, what comes out."""
from __future__ import annotations

import wave
from pathlib import Path

import pytest
from PIL import Image

from avp.media.errors import MediaError
from avp.media.ffmpeg import run
from avp.media.info import MediaInfo
from avp.media.probe import probe
from avp.media.transcode import VideoSource, extract_speech_wav, make_mezzanine, plan_mezzanine


def _mezzanine(src: Path, dst: Path) -> tuple[MediaInfo, MediaInfo]:
    source = probe(src)
    make_mezzanine(src, dst, source)
    return source, probe(dst)


def _assert_mezzanine_shape(info: MediaInfo, duration: float) -> None:
    assert info.format_name.startswith("mov,mp4")
    assert info.video is not None and info.audio is not None
    assert (info.video.codec, info.video.pixel_format, info.video.rotation) == ("h264", "yuv420p", 0)
    assert info.video.width % 2 == 0 and info.video.height % 2 == 0
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("aac", 48000, 2)
    assert info.duration == pytest.approx(duration, abs=0.1)


def _top_level_boxes(path: Path) -> list[str]:
    """The MP4 box types at the top level, in file order (each box starts with size + type)."""
    data, kinds, offset = path.read_bytes(), [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset:offset + 4], "big")
        kinds.append(data[offset + 4:offset + 8].decode("latin-1"))
        if size == 1:  # 64-bit size follows the type
            size = int.from_bytes(data[offset + 8:offset + 16], "big")
        offset += size if size else len(data)
    return kinds


def test_suitable_source_is_remuxed_bit_exact(h264_aac48: Path, tmp_path: Path) -> None:
    source = probe(h264_aac48)
    plan = plan_mezzanine(source)
    assert plan.copy_video and plan.copy_audio and plan.video_source is VideoSource.SOURCE
    dst = tmp_path / "mezz.mp4"
    make_mezzanine(h264_aac48, dst, source)
    _assert_mezzanine_shape(probe(dst), 2.0)
    boxes = _top_level_boxes(dst)
    assert boxes.index("moov") < boxes.index("mdat"), "+faststart puts the index before the data"
    # A copy keeps every compressed frame: the per-packet checksums of input and output match.
    assert _packet_hashes(h264_aac48) == _packet_hashes(dst)


def test_wrong_audio_is_encoded_while_video_is_copied(ntsc_mono: Path, tmp_path: Path) -> None:
    plan = plan_mezzanine(probe(ntsc_mono))
    assert plan.copy_video and not plan.copy_audio
    _, out = _mezzanine(ntsc_mono, tmp_path / "mezz.mp4")
    _assert_mezzanine_shape(out, 2.0)
    assert out.video is not None and out.video.fps_rational == "30000/1001"


def test_rotation_is_applied(rotated: Path, tmp_path: Path) -> None:
    source = probe(rotated)
    assert not plan_mezzanine(source).copy_video
    _, out = _mezzanine(rotated, tmp_path / "mezz.mp4")
    _assert_mezzanine_shape(out, 2.0)
    assert out.video is not None and (out.video.width, out.video.height) == (240, 320)


def test_other_codec_without_audio_gets_encoded_and_a_silent_track(mpeg4_silent: Path, tmp_path: Path) -> None:
    plan = plan_mezzanine(probe(mpeg4_silent))
    assert (plan.copy_video, plan.silent_audio) == (False, True)
    _, out = _mezzanine(mpeg4_silent, tmp_path / "mezz.mp4")
    _assert_mezzanine_shape(out, 2.0)
    assert out.video is not None and (out.video.width, out.video.height) == (320, 238)


def test_audio_only_gets_a_black_picture(plain_mp3: Path, tmp_path: Path) -> None:
    assert plan_mezzanine(probe(plain_mp3)).video_source is VideoSource.BLACK
    _, out = _mezzanine(plain_mp3, tmp_path / "mezz.mp4")
    _assert_mezzanine_shape(out, 3.0)
    assert out.video is not None and (out.video.width, out.video.height, out.video.fps) == (640, 360, 1.0)
    assert _pixel(tmp_path / "mezz.mp4", 1.5) == pytest.approx((0, 0, 0), abs=20)


def test_cover_art_becomes_the_picture(cover_mp3: Path, tmp_path: Path) -> None:
    assert plan_mezzanine(probe(cover_mp3)).video_source is VideoSource.COVER_ART
    _, out = _mezzanine(cover_mp3, tmp_path / "mezz.mp4")
    _assert_mezzanine_shape(out, 3.0)
    # The 200x200 red cover, centred and pillar-boxed in 640x360.
    assert _pixel(tmp_path / "mezz.mp4", 1.0) == pytest.approx((255, 0, 0), abs=30)


def test_failure_leaves_no_output(tmp_path: Path) -> None:
    src = tmp_path / "gone.mp4"
    fake = MediaInfo(format_name="mp4", duration=1.0, video=None, audio=None)
    dst = tmp_path / "out" / "mezz.mp4"
    with pytest.raises(MediaError, match="Converting the file failed"):
        make_mezzanine(src, dst, fake)
    assert list(dst.parent.iterdir()) == []


def test_speech_wav(ntsc_mono: Path, tmp_path: Path) -> None:
    dst = tmp_path / "speech.wav"
    extract_speech_wav(ntsc_mono, dst)
    with wave.open(str(dst), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        assert wav.getnframes() / 16000 == pytest.approx(2.0, abs=0.05)
    assert [p.name for p in tmp_path.iterdir()] == ["speech.wav"]


def test_speech_wav_without_audio(mpeg4_silent: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no audio track"):
        extract_speech_wav(mpeg4_silent, tmp_path / "speech.wav")
    assert list(tmp_path.iterdir()) == []


def _packet_hashes(path: Path) -> list[str]:
    out = run(["-i", path, "-map", "0:v:0", "-c", "copy", "-f", "framemd5", "-"], timeout=30).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def _pixel(video: Path, at: float) -> tuple[int, ...]:
    """The RGB value at the centre of the frame at `at` seconds."""
    still = video.with_suffix(f".{at}.png")
    run(["-y", "-ss", f"{at}", "-i", video, "-frames:v", "1", "-vf", "crop=2:2", still], timeout=30)
    with Image.open(still) as image:
        return tuple(image.convert("RGB").getpixel((0, 0)))
