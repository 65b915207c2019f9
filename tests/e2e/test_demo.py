"""`avp demo` as a person runs it: a subprocess, the bundled sample, every deliverable on disk."""
import json
import os
import subprocess
import sys

import pytest

from avp.captions.presets import get_preset
from avp.captions.qc import check_vtt
from avp.captions.vtt import parse_vtt
from avp.describe.drafts import count_to_write
from avp.media.ffmpeg import run
from avp.media.probe import probe

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_demo_writes_every_deliverable(tmp_path):
    out, data = tmp_path / "out", tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST")}
    proc = subprocess.run([sys.executable, "-m", "avp.cli", "demo", "--out", str(out), "--data-dir", str(data)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "avp ready on http://127.0.0.1:" in proc.stdout and "pending_qc" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "pending_qc" and summary["caption_qc"]["ok"]
    files = {p.name: p for p in (out / "en").iterdir()}
    captions = next(p for n, p in files.items() if n.endswith(".captions.vtt"))
    assert check_vtt(captions.read_text(), get_preset("netflix-en")).ok
    descriptions = next(p for n, p in files.items() if n.endswith(".descriptions.vtt"))
    to_write = count_to_write(parse_vtt(descriptions.read_text()).cues)  # placeholders over the long silences
    assert to_write > 0 and summary["descriptions_to_write"] == {"en": to_write}
    mp3 = next(p for n, p in files.items() if n.endswith(".description.mp3"))
    mp4 = next(p for n, p in files.items() if n.endswith(".accessible.mp4"))
    assert probe(mp3).duration == pytest.approx(summary["source_duration"], abs=0.1)
    added = summary["fit_report"]["added_time"]
    assert probe(mp4).duration == pytest.approx(summary["source_duration"] + added, abs=1 / 24 + 0.01)
    assert summary["fit_report"]["overlaps_speech"] == 0
    decoded = run(["-v", "error", "-i", mp4, "-f", "null", "-"])  # the MP4 plays: every frame and sample decodes
    assert decoded.stderr.strip() == ""
    assert set(summary["step_seconds"]) == {"ingest", "transcribe", "shots", "captions", "describe", "synthesize", "render"}
