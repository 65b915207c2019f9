"""Shot detection and keyframes on a clip with known cuts, and on the example video."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from avp.media.shots import detect_shots, extract_keyframes, shots_from_cuts


def test_cuts_become_shots_and_short_flashes_merge() -> None:
    shots = shots_from_cuts([1.5, 3.5, 4.5, 4.7, 5.9], 6.0, min_shot=0.5)
    assert [(s.start, s.end) for s in shots] == [(0.0, 1.5), (1.5, 3.5), (3.5, 4.5), (4.5, 6.0)]
    assert [s.index for s in shots] == [0, 1, 2, 3]
    assert shots[1].keyframe_time == 2.5


def test_no_cuts_is_one_shot() -> None:
    [shot] = shots_from_cuts([], 42.4)
    assert (shot.start, shot.end, shot.keyframe_time) == (0.0, 42.4, 21.2)


def test_detects_the_colour_changes(cuts: Path) -> None:
    shots = detect_shots(cuts)
    # The 0.2 s green flash at 4.5 s is shorter than min_shot, so it joins the yellow shot.
    assert [(s.start, s.end) for s in shots] == [
        (0.0, 1.5), (1.5, 3.5), (3.5, 4.5), (4.5, pytest.approx(6.0, abs=0.05))
    ]


def test_a_low_threshold_and_no_minimum_keep_the_flash(cuts: Path) -> None:
    starts = [s.start for s in detect_shots(cuts, threshold=0.1, min_shot=0.1)]
    assert starts == [0.0, 1.5, 3.5, 4.5, 4.7]


def test_keyframes_show_each_shot(cuts: Path, tmp_path: Path) -> None:
    shots = detect_shots(cuts)
    paths = extract_keyframes(cuts, shots, tmp_path / "keys")
    assert [p.name for p in paths] == ["shot_0000.jpg", "shot_0001.jpg", "shot_0002.jpg", "shot_0003.jpg"]
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [p.name for p in paths]
    colours = []
    for path in paths:
        with Image.open(path) as image:
            assert image.size == (640, 480)
            colours.append(image.convert("RGB").getpixel((320, 240)))
    assert colours[0] == pytest.approx((255, 0, 0), abs=30)
    assert colours[1] == pytest.approx((0, 0, 255), abs=30)
    assert colours[3] == pytest.approx((255, 255, 0), abs=30)  # mid-shot is past the green flash


def test_no_shots_no_keyframes(cuts: Path, tmp_path: Path) -> None:
    assert extract_keyframes(cuts, [], tmp_path) == []


@pytest.mark.slow
def test_example_is_one_shot_with_a_keyframe(example: Path, tmp_path: Path) -> None:
    shots = detect_shots(example)
    assert len(shots) == 1 and shots[0].end == pytest.approx(42.4, abs=0.05)
    [keyframe] = extract_keyframes(example, shots, tmp_path)
    with Image.open(keyframe) as image:
        assert image.size == (640, 360)
