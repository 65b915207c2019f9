"""Which pipeline steps a job needs, from what it asked for."""
from __future__ import annotations

from collections.abc import Mapping
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


def asset_kinds_for(requested: dict[str, Any], *, audio_only: bool = False) -> tuple[str, ...]:
    """The deliverables a language of the job gets, by the same rule as the steps that make them:
    captions and their QC report always; descriptions when any description output was asked for
    (not for audio); the MP3 and the accessible video only when asked for."""
    kinds = ["captions_vtt", "qc_report"]
    if not audio_only:
        if requested.get("audio_description_vtt") or requested.get("audio_description_mp3") or requested.get("accessible_video_mp4"):
            kinds.append("description_vtt")
        if requested.get("audio_description_mp3"):
            kinds.append("description_mp3")
        if requested.get("accessible_video_mp4"):
            kinds.append("accessible_mp4")
    return tuple(kinds)


def language_steps_for(requested: dict[str, Any]) -> list[str]:
    """The per-language steps: every target language gets its tracks; voicing and rendering follow
    what was asked for, as for the source."""
    steps = ["translate"]
    if requested.get("audio_description_mp3") or requested.get("accessible_video_mp4"):
        steps += ["synthesize", "render"]
    return steps


# Seconds each step took on the bundled 30 s sample through `avp up` on the shared 2-core machine
# (2026-11-30: ingest 1.2, transcribe 16.8, shots 13.8 beside it, captions 0.4, describe 0.8,
# synthesize 0.5, render 3.1). Whole-run progress weighs each step by it, so the figure moves at
# the pace a person waits.
STEP_COST = {"ingest": 1.2, "transcribe": 16.8, "shots": 13.8, "captions": 0.4, "describe": 0.8, "synthesize": 0.5,
             "render": 3.1, "translate": 0.3}
# Steps that run beside a longer one (the workflow's parallel branch): their time is hidden in it.
BESIDE = {"shots": "transcribe"}


def _cost(step: str, planned: list[str]) -> float:
    return 0.0 if BESIDE.get(step) in planned else STEP_COST.get(step, 1.0)


def run_progress(job: Mapping[str, Any], step: str, fraction: float, language: str | None = None) -> float:
    """How far the run is (0..1) while `step` is `fraction` done: the pipeline's planned steps
    weighted by cost (a step beside a longer one adds nothing), counting those done; a language
    run's steps in their order."""
    requested = job.get("requested_outputs") or {}
    if language:
        planned = language_steps_for(requested)
        done = planned[:planned.index(step)] if step in planned else []
    else:
        planned = list(job.get("planned_steps") or steps_for(requested, audio_only=bool((job.get("media") or {}).get("audio_only"))))
        done = [s for s in planned if s in (job.get("steps_done") or ()) and s != step]
    if step not in planned:
        planned = [*planned, step]
    total = sum(_cost(s, planned) for s in planned)
    reached = sum(_cost(s, planned) for s in done) + _cost(step, planned) * max(0.0, min(1.0, fraction))
    return min(1.0, reached / total) if total else 1.0
