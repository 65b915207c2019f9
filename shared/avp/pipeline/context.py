"""What a step gets: the job, a local work folder, storage I/O and progress reporting."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avp.bootstrap import Container
from avp.domain import jobs, plan
from avp.domain.model import Asset, Job, file_checksum
from avp.domain.records import now


class PermanentStepError(Exception):
    """A failure no retry can fix (an unreadable video, a rejected request): the job fails with
    this readable reason and the workflow does not retry."""


@dataclass
class StepContext:
    step: str
    job_id: str
    container: Container
    workdir: Path
    language: str | None = None
    attempt: int = 0
    _job: Job | None = field(default=None, repr=False)

    @property
    def store(self):
        return self.container.store

    @property
    def storage(self):
        return self.container.storage

    @property
    def job(self) -> Job:
        if self._job is None:
            self._job = jobs.get_job(self.store, self.job_id)
        return self._job

    def refresh(self) -> Job:
        self._job = None
        return self.job

    def progress(self, fraction: float) -> None:
        """Report progress within this step (0..1), and what it makes of the whole run's, through the
        status writer. A language step reports on its language only."""
        whole = plan.run_progress(self.job, self.step, fraction, self.language)
        jobs.report_progress(self.store, self.job_id, stage=self.step, step_progress=fraction, progress=whole,
                             language=self.language)

    def work_path(self, name: str) -> str:
        """The storage path of an intermediate artifact of this job."""
        return f"jobs/{self.job_id}/work/{name}"

    def output_path(self, lang: str, name: str) -> str:
        return f"jobs/{self.job_id}/outputs/{lang}/{name}"

    def fetch(self, object_path: str) -> Path:
        """A local copy of a stored object (downloaded once per work folder)."""
        local = self.workdir / "cache" / object_path
        if not local.exists():
            self.storage.download_file(object_path, local)
        return local

    def local(self, name: str) -> Path:
        """A fresh local file path for an output being made."""
        path = self.workdir / "out" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def put(self, object_path: str, local: Path, content_type: str) -> str:
        """Upload a finished local file (a single upload: the object appears whole or not at all)."""
        self.storage.upload_file(object_path, local, content_type)
        cached = self.workdir / "cache" / object_path
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, cached)
        return object_path

    def put_asset(self, object_path: str, local: Path, content_type: str) -> Asset:
        """`put`, and the asset it makes (ready, with its size and checksum) for the step's result."""
        self.put(object_path, local, content_type)
        return Asset(path=object_path, state="ready", size=local.stat().st_size, checksum=file_checksum(local),
                     updated_at=now(), uri=self.storage.uri(object_path))

    def put_json(self, object_path: str, value: Any) -> str:
        self.storage.write_bytes(object_path, json.dumps(value, indent=1, default=str).encode(), "application/json")
        return object_path

    def get_json(self, object_path: str) -> Any:
        return json.loads(self.fetch(object_path).read_text())
