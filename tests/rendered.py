"""One real accessible-video run per test session, for the test worlds that need a language with
a rendered video (tests/integration/qc_world.py, tests/security/matrix.py).

The bundled sample goes through the real pipeline (local executor: a child process per step, real
ffmpeg, speech recognition and eSpeak), then a describer's French description track is voiced and
rendered by the real `synthesize` and `render` steps. `install` gives a test's job what those steps
left, byte for byte, through the same writers the steps use (the track store and `jobs.record_step`):
so a world holds a real MP4, real pause points and a real fit report, never a stand-in. The run is
made again in every session, so what tests read cannot drift from what the steps make."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import avp
from avp.auth.tokens import Principal
from avp.captions.model import Cue
from avp.captions.vtt import write_vtt
from avp.domain import jobs, plan, tracks
from avp.domain.audit import SYSTEM
from avp.domain.model import Asset, LanguageOutputs

SAMPLE = Path(avp.__file__).parent / "demo_media" / "sample.mp4"
LANGUAGE = "fr"
REQUESTED = {"captions_vtt": True, "audio_description_vtt": True, "accessible_video_mp4": True, "languages": [LANGUAGE]}
# A describer's French track: two descriptions timed at the start of the narration (0.6 to 6.4 s of
# the sample), with no dialogue gap starting within the fitter's 5 s of either target, so both are
# extended (each a pause point of the accessible video).
DESCRIBED = [
    Cue(0.5, 1.0, "Un phare blanc au bout de la jetée.", data={"target": 0.5}),
    Cue(1.2, 1.8, "Des mouettes tournent au-dessus des bateaux.", data={"target": 1.2}),
]


@dataclass(frozen=True)
class Rendered:
    """What the real steps left for one language of the sample: its storage objects (paths relative
    to the job's folder), the description track as synthesize saved it, and the reports the steps
    recorded on the job."""

    language: str
    duration: float
    description_vtt: str
    outputs: LanguageOutputs
    objects: dict[str, tuple[bytes, str]] = field(repr=False)  # relative path -> (bytes, content type)

    @property
    def pause_points(self) -> list[dict[str, Any]]:
        return json.loads(self.objects[self._relative(self.outputs.pause_points)][0])

    @staticmethod
    def _relative(path: str) -> str:
        return path.split("/", 2)[2]  # jobs/<id>/<rest>

    @property
    def description_texts(self) -> list[str]:
        from avp.captions.vtt import parse_vtt

        return [c.text for c in parse_vtt(self.description_vtt).cues]


def run(settings_for: Callable[[str], Any]) -> Rendered:
    """Run the sample through the real steps in a project of its own (`settings_for(name)` gives
    its Settings) and collect what they left for LANGUAGE."""
    from avp.bootstrap import Container
    from avp.pipeline.runner import LocalRunner

    container = Container(settings_for(f"render-{uuid.uuid4().hex[:8]}"))
    store, storage = container.store, container.storage
    job = jobs.new_job(Principal("u-render", "admin"), org_id="org-render", client_id=None, project_id=None,
                       title="Harbour", filename="sample.mp4", content_type="video/mp4",
                       size_bytes=SAMPLE.stat().st_size, source_language="en", requested_outputs=REQUESTED)
    jobs.store_new_job(store, SYSTEM, job)
    storage.upload_file(job["source_path"], SAMPLE, "video/mp4")
    jobs.transition(store, SYSTEM, job["id"], "complete_upload")
    runner = LocalRunner(container.settings.project_id, container.settings.region, env=container.settings.to_env())
    try:
        execution = runner.start_pipeline(job["id"], plan.steps_for(REQUESTED))
        jobs.transition(store, SYSTEM, job["id"], "start_processing", changes={"execution_id": execution})
        result = runner.wait(execution, 900)
        assert result["state"] == "SUCCEEDED", result
        tracks.save_version(store, storage, SYSTEM, job["id"], LANGUAGE, "descriptions",
                            write_vtt(DESCRIBED, kind="descriptions"), source="edit")
        voiced = runner.wait(runner.start_languages(job["id"], [LANGUAGE], ["synthesize", "render"]), 900)
        assert voiced["state"] == "SUCCEEDED", voiced
    finally:
        runner.shutdown()
    made = jobs.get_job(store, job["id"])
    outputs = made.outputs[LANGUAGE]
    prefix = f"jobs/{job['id']}/"
    wanted = [f"{prefix}work/mezzanine.mp4", outputs.pause_points, *storage.list(f"{prefix}work/{LANGUAGE}/voice/"),
              *(outputs.asset(k).path for k in ("accessible_mp4", "description_mp3") if outputs.asset(k).path)]
    objects = {path[len(prefix):]: (storage.read_bytes(path), (storage.stat(path) or {}).get("content_type") or
                                    "application/octet-stream") for path in wanted}
    rendered = Rendered(LANGUAGE, made["media"]["duration"],
                        storage.read_text(outputs.asset("description_vtt").path), outputs, objects)
    assert len(rendered.pause_points) == len(DESCRIBED), (rendered.pause_points, outputs.fit_report, rendered.description_vtt)
    return rendered


def install(store: Any, storage: Any, job_id: str, rendered: Rendered) -> None:
    """Give `job_id` the language `rendered` as the steps left it: its objects, its description
    track (saved as the synthesize step saves it) and what synthesize and render recorded."""
    job = jobs.get_job(store, job_id)
    assert (job.get("media") or {}).get("duration") == rendered.duration, \
        "the job's media must be the rendered sample's (world.job(duration=rendered.duration))"
    for relative, (data, content_type) in rendered.objects.items():
        storage.write_bytes(f"jobs/{job_id}/{relative}", data, content_type)
    lang = rendered.language
    tracks.save_version(store, storage, SYSTEM, job_id, lang, "descriptions", rendered.description_vtt, source="pipeline")
    here = lambda path: f"jobs/{job_id}/{Rendered._relative(path)}"  # noqa: E731
    voiced = jobs.StepResult()
    voiced.report(lang, pause_points=here(rendered.outputs.pause_points), fit_report=rendered.outputs.fit_report)
    jobs.record_step(store, job_id, f"synthesize:{lang}", 0.0, voiced)
    shown = jobs.StepResult()
    for kind in ("accessible_mp4", "description_mp3"):
        asset = rendered.outputs.asset(kind)
        if asset.path:
            shown.asset(lang, kind, Asset(here(asset.path), "ready", size=asset.size, checksum=asset.checksum,
                                          updated_at=asset.updated_at, uri=storage.uri(here(asset.path))))
    shown.report(lang, render_stats=rendered.outputs.render_stats)
    jobs.record_step(store, job_id, f"render:{lang}", 0.0, shown)
