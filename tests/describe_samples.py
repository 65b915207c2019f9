"""Stand-ins for the shots and dialogue gaps a describer reads, shared by the describer tests."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Shot:
    start: float
    end: float
    keyframe_time: float
    text: str = ""


@dataclass
class Gap:
    start: float
    end: float
