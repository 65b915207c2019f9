"""Real ffmpeg renders of a generated clip: duration, freeze, audio sync, captions, ducking, cost."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from avp.captions.model import Cue
from avp.describe.fit import PausePoint, Placed
from avp.media.ffmpeg import run
from avp.media.render import accessible_mp4, description_track, inspect_video

from render_media import FPS, HUM_HZ, band_level, decode_audio, decode_frames, make_source, onsets, tone

pytestmark = pytest.mark.slow

RATE = 16000


def _placed(start: float, seconds: float, freq: float, pause: float = 0.0) -> Placed:
    mode = "extended" if pause else "standard"
    cue = Cue(start, start + seconds, f"{freq} Hz", data={"mode": mode, "pause_duration": pause})
    return Placed(cue=cue, audio=tone(seconds, freq))


# A 2 s description that needs the picture frozen at 5 s, and a 1 s one that fits at 8 s.
EXTENDED = _placed(5.0, 2.0, 500, pause=2.0)
STANDARD = _placed(8.0, 1.0, 700)
PAUSES = [PausePoint(5.0, 2.0, 0)]
CAPTIONS = [Cue(7.0, 7.5, "second beep"), Cue(4.0, 6.0, "across the pause")]


@pytest.fixture(scope="module")
def rendered(source_12s: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("mp4") / "accessible.mp4"
    stats = accessible_mp4(source_12s, [EXTENDED, STANDARD], PAUSES, CAPTIONS, out, language="fr-FR")
    return out, stats


def _expected_source_frame(j: int) -> int:
    freeze_at, freeze_len = 5 * FPS, 2 * FPS
    if j < freeze_at:
        return j
    return freeze_at if j < freeze_at + freeze_len else j - freeze_len


def test_duration_is_source_plus_pauses(rendered, tmp_path):
    frames = decode_frames(rendered[0], tmp_path)
    assert abs(len(frames) - (12 + 2) * FPS) <= 1


def test_every_frame_is_the_right_source_frame_and_the_freeze_is_static(rendered, source_12s, tmp_path):
    out, src = decode_frames(rendered[0], tmp_path), decode_frames(source_12s, tmp_path)
    for j in range(0, len(out), 7):
        diffs = np.abs(src - out[j]).mean(axis=(1, 2))
        assert int(np.argmin(diffs)) == _expected_source_frame(j), j
    freeze = out[5 * FPS : 7 * FPS]
    moving = out[2 * FPS : 4 * FPS]
    still_change = np.abs(np.diff(freeze, axis=0)).mean(axis=(1, 2)).max()
    normal_change = np.abs(np.diff(moving, axis=0)).mean(axis=(1, 2)).min()
    assert still_change < 0.5 < normal_change


def test_audio_stays_in_sync_and_descriptions_play_where_placed(rendered, tmp_path):
    audio = decode_audio(rendered[0], tmp_path, RATE)
    # Beeps at 3, 7, 10 s in the source; the last two come after the 2 s pause at 5 s.
    assert onsets(audio, RATE, 1000) == pytest.approx([3.0, 9.0, 12.0], abs=0.03)
    assert onsets(audio, RATE, 500) == pytest.approx([5.0], abs=0.03)  # over the freeze
    assert onsets(audio, RATE, 700) == pytest.approx([10.0], abs=0.03)  # 8 s + the pause


def test_captions_are_a_mov_text_track_on_the_paused_timeline(rendered, tmp_path):
    probe = run(["-i", rendered[0]], check=False).stderr
    assert re.search(r"Subtitle: mov_text", probe)
    vtt = tmp_path / "subs.vtt"
    run(["-i", rendered[0], "-map", "0:s:0", "-f", "webvtt", "-y", vtt], timeout=30)
    text = vtt.read_text()
    assert "00:04.000 --> 00:08.000\nacross the pause" in text
    assert "00:09.000 --> 00:09.500\nsecond beep" in text


def test_the_description_text_is_a_second_track(rendered, tmp_path):
    probe = run(["-i", rendered[0]], check=False).stderr
    assert len(re.findall(r"Subtitle: mov_text", probe)) == 2 and "Descriptions" in probe
    assert len(re.findall(r"\(fra\)", probe)) == 3  # audio and both text tracks say their language
    vtt = tmp_path / "descriptions.vtt"
    run(["-i", rendered[0], "-map", "0:s:1", "-f", "webvtt", "-y", vtt], timeout=30)
    text = vtt.read_text()  # each where its voice plays: the extended one over the freeze
    assert "00:05.000 --> 00:07.000\n500 Hz" in text and "00:10.000 --> 00:11.000\n700 Hz" in text


def test_faststart_puts_the_index_first(rendered):
    head = rendered[0].read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat"))


def test_smart_render_copies_most_frames_and_matches_a_full_reencode(rendered, source_12s, tmp_path):
    stats = rendered[1]
    assert stats.copied_pieces >= 2
    # Re-encoded: the freeze (50 frames) plus at most one GOP either side of the pause.
    assert stats.encoded_frames <= 2 * FPS + 2 * (2 * FPS)
    full = tmp_path / "full.mp4"
    full_stats = accessible_mp4(source_12s, [EXTENDED, STANDARD], PAUSES, CAPTIONS, full, smart=False)
    assert full_stats.encoded_frames == 14 * FPS
    smart_frames, full_frames = decode_frames(rendered[0], tmp_path), decode_frames(full, tmp_path)
    assert len(smart_frames) == len(full_frames)
    assert np.abs(smart_frames - full_frames).mean() < 2.0


def test_encoding_grows_with_pauses_not_length(tmp_path):
    src = make_source(tmp_path / "long.mp4", 20)
    info = inspect_video(src)
    one = accessible_mp4(src, [], [PausePoint(5.1, 1.0, 0)], [], tmp_path / "one.mp4")
    three = accessible_mp4(src, [], [PausePoint(5.1, 1.0, 0), PausePoint(9.5, 1.0, 1), PausePoint(15.3, 1.0, 2)], [], tmp_path / "three.mp4")
    gop = 2 * FPS
    assert one.encoded_frames - 1 * FPS <= 2 * gop
    assert three.encoded_frames - 3 * FPS <= 3 * 2 * gop
    assert three.encoded_frames > one.encoded_frames
    assert three.encoded_frames < info.frame_count  # most of the film is copied, never encoded
    assert abs(len(decode_frames(tmp_path / "three.mp4", tmp_path)) - 23 * FPS) <= 1


def test_description_track_mixes_standard_descriptions_over_ducked_programme(source_hum, tmp_path):
    out = tmp_path / "ad.mp3"
    ignored_extended = _placed(5.0, 1.0, 900, pause=1.0)
    description_track(source_hum, [_placed(2.0, 1.5, 700), ignored_extended], out)
    audio = decode_audio(out, tmp_path, RATE)
    assert len(audio) / RATE == pytest.approx(8.0, abs=0.1)
    assert onsets(audio, RATE, 700) == pytest.approx([2.0], abs=0.03)
    assert onsets(audio, RATE, 900) == []
    inside = band_level(audio, RATE, HUM_HZ, 2.4, 3.1)
    outside = band_level(audio, RATE, HUM_HZ, 0.5, 1.5)
    assert 20 * np.log10(inside / outside) == pytest.approx(-12.0, abs=1.0)
    assert band_level(audio, RATE, HUM_HZ, 5.5, 6.5) == pytest.approx(outside, rel=0.1)


def test_a_pause_on_the_first_frame_then_the_whole_film_copied(source_12s, tmp_path):
    # The local describer's "Opening shot." usually lands here: extended, at 0 s.
    out = tmp_path / "opening.mp4"
    stats = accessible_mp4(source_12s, [_placed(0.0, 0.8, 500, pause=0.8)], [PausePoint(0.0, 0.8, 0)], [], out)
    assert stats.pieces == ["freeze 0-20", "copy 0-None"]
    frames, src = decode_frames(out, tmp_path), decode_frames(source_12s, tmp_path)
    assert len(frames) == 12 * FPS + 20
    assert np.abs(frames[:21] - src[0]).mean(axis=(1, 2)).max() < 2.0
    assert np.abs(frames[-1] - src[-1]).mean() < 2.0
