"""What `avp demo` shows a person: one progress bar for the whole job while it runs, then a
summary of where each deliverable is, the caption QC result, the fit report and the time
taken. The log lines go to a file meanwhile (see `avp.logs.to_file`)."""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from avp.pipeline.failures import STEP_NAMES

# Rough shares of a run's time per step (the bundled sample on a laptop): only for the bar.
_WEIGHTS = {"ingest": 1.0, "transcribe": 4.0, "shots": 1.5, "captions": 0.3, "describe": 0.7, "synthesize": 1.5,
            "render": 2.5, "translate": 0.5}
_RESTING_WORDS = {"pending_qc": "ready for caption QC", "failed": "failed", "cancelled": "cancelled",
                  "complete": "complete", "rejected": "rejected", "blocked_on_source": "blocked on its source"}


def whole_job_progress(job: dict[str, Any], planned: Iterable[str], shown: float = 0.0) -> float:
    """0..1 over the whole run: the weighted share of planned steps done, plus the running step's
    own progress; never below what was `shown` before, so the bar only moves forward."""
    planned = list(planned)
    if job.get("status") in ("pending_qc", "complete"):
        return 1.0
    total = sum(_WEIGHTS.get(step, 1.0) for step in planned) or 1.0
    done = set(job.get("step_seconds") or {})
    value = sum(_WEIGHTS.get(step, 1.0) for step in planned if step in done)
    stage = job.get("stage")
    if stage in planned and stage not in done:
        value += _WEIGHTS.get(stage, 1.0) * min(max(float(job.get("progress") or 0.0), 0.0), 1.0)
    return max(shown, min(value / total, 1.0))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


class JobDisplay:
    """One progress bar for a running job: `update(job)` on every status read."""

    def __init__(self, console: Console, planned: Iterable[str]):
        self.planned = list(planned)
        self.shown = 0.0
        self.progress = Progress(TextColumn("{task.description:<40}"), BarColumn(), TaskProgressColumn(),
                                 TimeElapsedColumn(), console=console, transient=False)
        self.task = self.progress.add_task("waiting for the pipeline", total=1.0)

    def __enter__(self) -> JobDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, job: dict[str, Any]) -> None:
        self.shown = whole_job_progress(job, self.planned, self.shown)
        status, stage = job.get("status"), job.get("stage")
        if status in _RESTING_WORDS:
            text = _RESTING_WORDS[status]
        elif stage:
            text = f"{STEP_NAMES.get(stage, stage)}"
        else:
            text = str(status or "")
        self.progress.update(self.task, completed=self.shown, description=text)


def _where(path: str) -> str:
    """`path` relative to the current folder when it is inside it, else absolute."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    return absolute if relative.startswith("..") else relative


_KINDS = ((".captions.vtt", "captions"), (".descriptions.vtt", "description track"), (".description.mp3", "described audio"),
          (".accessible.mp4", "accessible video"), (".qc.json", "caption QC report"), (".vtt", "track"))


def _kind(path: str) -> str:
    return next((kind for suffix, kind in _KINDS if path.endswith(suffix)), "source")


def _caption_qc(qc: dict[str, Any] | None) -> str:
    if not qc:
        return "not run"
    if qc.get("ok"):
        return f"passed ({qc.get('preset', 'preset')})"
    totals = qc.get("totals") or {}
    listed = ", ".join(f"{count} {code}" for code, count in sorted(totals.items())) or f"{qc.get('violations')} problems"
    return f"{qc.get('violations', sum(totals.values()))} problems against {qc.get('preset', 'the preset')}: {listed}"


def _fit(report: dict[str, Any] | None) -> str:
    if not report:
        return "no descriptions voiced"
    fitted, extended = report.get("fitted", 0), report.get("extended", 0)
    return (f"{fitted + extended} descriptions: {fitted} fit in the pauses of the dialogue, {extended} pause the "
            f"picture (+{float(report.get('added_time') or 0):.1f} s); {report.get('overlaps_speech', 0)} overlap speech")


def print_summary(console: Console, summary: dict[str, Any], *, summary_file: Path, log_file: Path) -> None:
    """The closing summary of `avp demo` (the same facts as summary.json, for a person)."""
    status = summary.get("status")
    took = _duration(summary.get("total_seconds"))
    if status == "failed":
        console.print(f"[bold red]The job failed[/] after {took}.")
        console.print(summary.get("failure") or "no reason was recorded", style="red", highlight=False)
    else:
        console.print(f"[bold green]Done[/] in {took}: the job is {_RESTING_WORDS.get(status, status)} ({status}).")
    files = summary.get("files") or {}
    if files:
        table = Table(title="Deliverables", title_justify="left", show_edge=False, box=None, padding=(0, 2, 0, 0))
        for column in ("", "file", ""):
            table.add_column(column, overflow="fold")
        for path, entry in files.items():
            detail = f"{entry['cues']} cues" if "cues" in entry else _duration(entry.get("duration")) if "duration" in entry else ""
            table.add_row(_kind(path), _where(path), detail)
        console.print(table)
    console.print(f"Caption QC: {_caption_qc(summary.get('caption_qc'))}", highlight=False)
    console.print(f"Fit report: {_fit(summary.get('fit_report'))}", highlight=False)
    to_write = {lang: n for lang, n in (summary.get("descriptions_to_write") or {}).items() if n}
    if to_write:
        console.print("Left for the describer (placeholders, not voiced): "
                      + ", ".join(f"{n} in {lang}" for lang, n in to_write.items()), highlight=False)
    steps = summary.get("step_seconds") or {}
    if steps:
        ordered = sorted(steps.items(), key=lambda item: list(STEP_NAMES).index(item[0]) if item[0] in STEP_NAMES else 99)
        console.print("Time per step: " + ", ".join(f"{step} {_duration(s)}" for step, s in ordered), highlight=False)
    console.print(f"Summary: {_where(str(summary_file))}   Logs: {_where(str(log_file))}", highlight=False)
