"""What `avp demo` and `avp` show a person: a bar that only moves forward, a readable summary,
`--version`, and help for every option."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from avp.cli import build_parser
from avp.terminal import print_summary, whole_job_progress

PLANNED = ["ingest", "transcribe", "shots", "captions", "describe", "synthesize", "render"]


def test_the_bar_rises_over_the_whole_job_while_each_steps_own_progress_restarts() -> None:
    # What GET /jobs/{id} says during a run: progress is the running step's own, from 0 each time.
    reads = [
        {"status": "processing", "stage": "ingest", "progress": 0.4},
        {"status": "processing", "stage": "ingest", "progress": 1.0, "step_seconds": {"ingest": 2}},
        {"status": "processing", "stage": "transcribe", "progress": 0.0, "step_seconds": {"ingest": 2}},
        {"status": "processing", "stage": "shots", "progress": 0.4, "step_seconds": {"ingest": 2}},
        {"status": "processing", "stage": "transcribe", "progress": 0.5, "step_seconds": {"ingest": 2, "shots": 9}},
        {"status": "processing", "stage": "render", "progress": 0.3,
         "step_seconds": dict.fromkeys(PLANNED[:-1], 1)},
        {"status": "pending_qc", "stage": "render", "progress": 1.0, "step_seconds": dict.fromkeys(PLANNED, 1)},
    ]
    shown, seen = 0.0, []
    for job in reads:
        shown = whole_job_progress(job, PLANNED, shown)
        seen.append(shown)
    assert seen == sorted(seen) and 0 < seen[0] < 0.2 and seen[-1] == 1.0
    assert len(set(seen)) >= 5  # it moves at every stage, not only at the end


def _summary(summary: dict, tmp_path: Path) -> str:
    console = Console(record=True, width=120)
    print_summary(console, summary, summary_file=tmp_path / "summary.json", log_file=tmp_path / "logs" / "avp.log")
    return console.export_text()


def test_the_summary_says_where_each_deliverable_is_and_how_qc_and_fitting_went(tmp_path) -> None:
    out = tmp_path / "out" / "en"
    summary = {"status": "pending_qc", "total_seconds": 92.4, "step_seconds": {"render": 4.8, "ingest": 2.1},
               "caption_qc": {"ok": True, "preset": "netflix-en", "violations": 0, "totals": {}},
               "fit_report": {"fitted": 3, "extended": 2, "added_time": 7.1, "overlaps_speech": 0},
               "files": {str(out / "film.en.captions.vtt"): {"bytes": 10, "cues": 12},
                         str(out / "film.en.accessible.mp4"): {"bytes": 10, "duration": 37.1}}}
    text = _summary(summary, tmp_path)
    assert "Done in 1 min 32 s" in text and "pending_qc" in text
    assert "captions" in text and "film.en.captions.vtt" in text and "12 cues" in text
    assert "accessible video" in text and "37.1 s" in text
    assert "Caption QC: passed (netflix-en)" in text
    assert "3 fit in the pauses of the dialogue, 2 pause the picture (+7.1 s); 0 overlap speech" in text
    assert text.index("ingest 2.1 s") < text.index("render 4.8 s")  # pipeline order
    assert "avp.log" in text


def test_a_failed_job_shows_its_reason(tmp_path) -> None:
    reason = "Voicing the descriptions (synthesize) failed: this deployment has no Gemini API key; set GEMINI_API_KEY."
    text = _summary({"status": "failed", "failure": reason, "total_seconds": 40}, tmp_path)
    assert "The job failed after 40.0 s" in text and "GEMINI_API_KEY" in " ".join(text.split())


def test_every_command_and_option_says_what_it_does() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == {"up", "routes", "demo", "watch", "bootstrap-admin", "migrate"}
    for name, sub in [("avp", parser), *commands.choices.items()]:
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
    assert all(choice.help for choice in commands._choices_actions)


def test_version_names_avp_and_its_ffmpeg() -> None:
    proc = subprocess.run([sys.executable, "-m", "avp.cli", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("avp ") and "ffmpeg version" in proc.stdout
