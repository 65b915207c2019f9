"""Which pipeline steps a job needs, from what it asked for."""
from __future__ import annotations

from typing import Any

STEPS = ("ingest", "transcribe", "shots", "captions", "describe", "synthesize", "render")
LANGUAGE_STEPS = ("translate", "synthesize", "render")


def steps_for(requested: dict[str, Any], *, audio_only: bool = False, done: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The steps to run, in pipeline order, skipping those already `done` (a retry resumes at the
    failed step). Captions are always made: they are the source of the QC workflow."""
    wanted = {"ingest", "transcribe", "captions"}
    describe = requested.get("audio_description_vtt") or requested.get("audio_description_mp3") or requested.get("accessible_video_mp4")
    if describe and not audio_only:
        wanted |= {"shots", "describe", "synthesize"}
    if (requested.get("audio_description_mp3") or requested.get("accessible_video_mp4")) and not audio_only:
        wanted.add("render")
    return [s for s in STEPS if s in wanted and s not in done]


def language_steps_for(requested: dict[str, Any]) -> list[str]:
    """The per-language steps: every target language gets its tracks; voicing and rendering follow
    what was asked for, as for the source."""
    steps = ["translate"]
    if requested.get("audio_description_mp3") or requested.get("accessible_video_mp4"):
        steps += ["synthesize", "render"]
    return steps
