"""OCR of rendered text and of the example's on-screen timecode (RapidOCR, offline models)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from avp.media.ffmpeg import run
from avp.media.ocr import TextBox, detect_text, join_lines, read_text
from avp.media.shots import extract_keyframes, shots_from_cuts


@pytest.fixture(scope="module")
def sign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    image = Image.new("RGB", (640, 360), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    draw.text((40, 60), "PLATFORM 9", fill="black", font=font)
    draw.text((40, 200), "Exit", fill="black", font=font)
    draw.text((400, 205), "Tickets", fill="black", font=font)
    path = tmp_path_factory.mktemp("ocr") / "sign.png"
    image.save(path)
    return path


def test_join_lines_orders_top_to_bottom_then_left_to_right() -> None:
    boxes = [
        TextBox("right", 0.9, (300, 102, 400, 140)),
        TextBox("lower", 0.9, (10, 100, 200, 140)),
        TextBox("top", 0.9, (50, 10, 200, 40)),
    ]
    assert join_lines(boxes) == "top\nlower right"


@pytest.mark.slow
def test_reads_rendered_text(sign: Path) -> None:
    boxes = read_text(sign)
    assert [b.text for b in boxes] == ["PLATFORM 9", "Exit", "Tickets"]
    assert all(b.confidence >= 0.6 for b in boxes)
    left, top, right, bottom = boxes[0].box
    assert left < 60 and 50 < top < 80 and right > 250 and bottom < 130


@pytest.mark.slow
def test_blank_image_has_no_text(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("RGB", (320, 180), "green").save(blank)
    assert read_text(blank) == []


@pytest.mark.slow
def test_example_timecode(example: Path, sign: Path, tmp_path: Path) -> None:
    frame = tmp_path / "at20s.jpg"
    run(["-ss", "20", "-i", example, "-frames:v", "1", "-vf", "scale=640:-2", frame], timeout=30)
    found = detect_text([frame, sign])
    # The example's running timecode (hh:mm:ss:ff) sits bottom right; at 20 s it reads 01:00:20:00.
    assert found[0].text == "01:00:20:00"
    assert found[0].boxes[0].box[0] > 320 and found[0].boxes[0].box[1] > 180
    assert found[1].text == "PLATFORM 9\nExit Tickets"


@pytest.mark.slow
def test_keyframes_are_taken_at_their_times(example: Path, tmp_path: Path) -> None:
    # The burnt-in timecode proves which frame each keyframe is (30 fps: frame 6 = 0.2 s).
    shots = shots_from_cuts([10.0, 20.0], 42.4)
    found = detect_text(extract_keyframes(example, shots, tmp_path))
    assert [f.text for f in found] == ["01:00:05:00", "01:00:15:00", "01:00:31:06"]
