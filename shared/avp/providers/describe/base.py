"""The description-writing interface and the shapes it reads.

Shots and gaps come from `avp.media.shots` / `avp.media.gaps`; they are declared here as
protocols (attributes only) so describers depend on no media code.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from avp.captions.model import Cue
from avp.providers.retry import ProviderError

# Lower number = more important; the fitter and the human describer use it to choose.
PRIORITY_ESSENTIAL, PRIORITY_USEFUL, PRIORITY_OPTIONAL = 1, 2, 3


class DescribeError(ProviderError):
    """The describer could not produce descriptions (service failure or unusable answer);
    `permanent` says whether a retry can help."""


class ShotLike(Protocol):
    start: float
    end: float
    keyframe_time: float
    text: str  # on-screen text read from the keyframe ("" when none)


class GapLike(Protocol):
    start: float
    end: float


@dataclass(frozen=True)
class Keyframe:
    """One still sent to a vision model: its time in the video and JPEG bytes."""

    time: float
    jpeg: bytes


@dataclass(frozen=True)
class Description:
    """A description to be voiced near `start_target` seconds. `draft` = a human must complete it;
    `end`, when set, is where the stretch it describes ends (a placeholder's gap)."""

    start_target: float
    text: str
    priority: int
    draft: bool
    source: str
    end: float | None = None


@dataclass(frozen=True)
class DescribeInput:
    """Everything a describer may look at for one video."""

    duration: float
    shots: Sequence[ShotLike]
    gaps: Sequence[GapLike]
    transcript: Sequence[Cue] = ()
    language: str = "en"
    keyframes: Sequence[Keyframe] = field(default_factory=tuple)


class Describer(Protocol):
    name: str

    def describe(self, material: DescribeInput) -> list[Description]: ...
