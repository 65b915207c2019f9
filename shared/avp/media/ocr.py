"""On-screen text of keyframes, read offline with RapidOCR (ONNX models shipped in its wheel)."""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIN_CONFIDENCE = 0.6
# RapidOCR's default scales the *shorter* side up to 736 px, which made a 640x360 keyframe
# cost ~1.5 s; capping the longer side at 960 px reads the same text in ~0.3 s.
_ENGINE_PARAMS = {
    "Global.log_level": "error",
    # The angle classifier only matters for upside-down text, which frames do not carry.
    "Global.use_cls": False,
    "Det.limit_type": "max",
    "Det.limit_side_len": 960,
}


@dataclass(frozen=True)
class TextBox:
    """One line of text found in an image; `box` is (left, top, right, bottom) in pixels."""

    text: str
    confidence: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class FrameText:
    """The text read from one image, its lines joined top to bottom."""

    image: Path
    boxes: list[TextBox]

    @property
    def text(self) -> str:
        return join_lines(self.boxes)


def read_text(image_path: str | Path, *, min_confidence: float = MIN_CONFIDENCE) -> list[TextBox]:
    """Text lines in the image, top to bottom then left to right, without low-confidence guesses."""
    result = _engine()(str(image_path))
    if result.txts is None:
        return []
    boxes = [
        TextBox(text=text.strip(), confidence=float(score), box=_bounds(quad))
        for text, score, quad in zip(result.txts, result.scores, result.boxes)
        if float(score) >= min_confidence and text.strip()
    ]
    return [box for line in _lines(boxes) for box in line]


def detect_text(frames: Iterable[str | Path], *, min_confidence: float = MIN_CONFIDENCE) -> list[FrameText]:
    """`read_text` for each image (e.g. the keyframes of `extract_keyframes`), in order."""
    return [FrameText(Path(frame), read_text(frame, min_confidence=min_confidence)) for frame in frames]


def join_lines(boxes: list[TextBox]) -> str:
    """Boxes on one visual line joined by spaces, the lines by newlines, top to bottom."""
    return "\n".join(" ".join(box.text for box in line) for line in _lines(boxes))


def _lines(boxes: list[TextBox]) -> list[list[TextBox]]:
    """Group boxes whose vertical centre falls inside the first box of a line; sort each line."""
    lines: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: (b.box[1], b.box[0])):
        centre = (box.box[1] + box.box[3]) / 2
        for line in lines:
            if line[0].box[1] <= centre <= line[0].box[3]:
                line.append(box)
                break
        else:
            lines.append([box])
    return [sorted(line, key=lambda b: b.box[0]) for line in lines]


def _bounds(quad: Any) -> tuple[float, float, float, float]:
    xs = [float(point[0]) for point in quad]
    ys = [float(point[1]) for point in quad]
    return (min(xs), min(ys), max(xs), max(ys))


@functools.cache
def _engine() -> Any:
    """One engine per process: loading the three ONNX models takes about a second."""
    from rapidocr import RapidOCR  # imported here so importing avp.media costs nothing

    return RapidOCR(params=_ENGINE_PARAMS)
