"""Starting and cancelling pipeline executions: Cloud Workflows in the cloud, the local executor
running the same YAML on one machine."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from avp.domain.ports import WorkflowRunner
from avp.local.gateway import project_root

__all__ = ["CloudRunner", "LocalRunner", "WorkflowRunner", "make_runner"]


class LocalRunner:
    """The local executor (avp.local.workflows) with the real connectors: each step is a child
    process of the step entry point; Firestore calls go to the emulator."""

    def __init__(self, project_id: str, region: str, workflows_dir: Path | None = None, env: dict[str, str] | None = None):
        from avp.local.workflows.connectors import default_connectors
        from avp.local.workflows.executions import ExecutionManager

        self.project_id, self.region = project_id, region
        self.manager = ExecutionManager(default_connectors(env=env or {}), workflows_dir=workflows_dir or project_root() / "workflows",
                                        env=env or {})

    def _args(self, job_id: str, **extra) -> dict[str, Any]:
        return {"job_id": job_id, "project": self.project_id, "region": self.region, **extra}

    def start_pipeline(self, job_id: str, steps: list[str]) -> str:
        return self.manager.create("pipeline", self._args(job_id, steps=list(steps))).id

    def start_languages(self, job_id: str, languages: list[str], steps: list[str]) -> str:
        return self.manager.create("languages", self._args(job_id, languages=list(languages), steps=list(steps))).id

    def start_bundle(self, download_id: str) -> str:
        return self.manager.create("bundle", {"download_id": download_id, "project": self.project_id, "region": self.region}).id

    def cancel(self, execution_id: str) -> None:
        try:
            self.manager.cancel(execution_id)
        except KeyError:
            pass  # an execution of an earlier process: nothing runs any more

    def get(self, execution_id: str) -> dict[str, Any]:
        e = self.manager.get(execution_id)
        return {"id": e.id, "state": e.state.value, "error": e.error, "result": e.result}

    def wait(self, execution_id: str, timeout: float | None = None) -> dict[str, Any]:
        self.manager.wait(execution_id, timeout)
        return self.get(execution_id)

    def probe(self) -> str:
        """What the health check reports: the executor's own count of executions."""
        executions = self.manager.list()
        active = sum(e.state.value == "ACTIVE" for e in executions)
        return f"local executor: {active} active of {len(executions)} executions"

    def executor_state(self) -> dict[str, Any]:
        """What the admin statistics show of the executor."""
        executions = self.manager.list()
        return {"kind": "local", "active_executions": sum(e.state.value == "ACTIVE" for e in executions),
                "executions_seen": len(executions)}

    def shutdown(self) -> None:
        for e in self.manager.list():
            if e.state.value == "ACTIVE":
                self.manager.cancel(e.id)


class CloudRunner:
    """Cloud Workflows executions through the Workflow Executions REST API."""

    API = "https://workflowexecutions.googleapis.com/v1"

    def __init__(self, project_id: str, region: str):
        import google.auth
        from google.auth.transport.requests import AuthorizedSession

        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
        self.session = AuthorizedSession(credentials)
        self.project_id, self.region = project_id, region

    def _start(self, workflow: str, argument: dict[str, Any]) -> str:
        import json

        url = f"{self.API}/projects/{self.project_id}/locations/{self.region}/workflows/{workflow}/executions"
        resp = self.session.post(url, json={"argument": json.dumps(argument)}, timeout=30)
        resp.raise_for_status()
        return resp.json()["name"]

    def start_pipeline(self, job_id: str, steps: list[str]) -> str:
        return self._start("avp-pipeline", {"job_id": job_id, "project": self.project_id, "region": self.region, "steps": steps})

    def start_languages(self, job_id: str, languages: list[str], steps: list[str]) -> str:
        return self._start("avp-languages", {"job_id": job_id, "project": self.project_id, "region": self.region,
                                             "languages": languages, "steps": steps})

    def start_bundle(self, download_id: str) -> str:
        return self._start("avp-bundle", {"download_id": download_id, "project": self.project_id, "region": self.region})

    def cancel(self, execution_id: str) -> None:
        self.session.post(f"{self.API}/{execution_id}:cancel", timeout=30)

    def get(self, execution_id: str) -> dict[str, Any]:
        resp = self.session.get(f"{self.API}/{execution_id}", timeout=30)
        resp.raise_for_status()
        body = resp.json()
        return {"id": execution_id, "state": body.get("state"), "error": body.get("error"), "result": body.get("result")}

    def probe(self) -> str:
        """One real call to the Workflow Executions API (list the newest pipeline execution), which
        the functions' roles/workflows.invoker allows; raises when the API or the workflow is unreachable."""
        url = f"{self.API}/projects/{self.project_id}/locations/{self.region}/workflows/avp-pipeline/executions"
        resp = self.session.get(url, params={"pageSize": 1}, timeout=10)
        resp.raise_for_status()
        newest = (resp.json().get("executions") or [{}])[0]
        return f"Cloud Workflows avp-pipeline reachable; newest execution {newest.get('state', 'none')}"

    def shutdown(self) -> None:
        pass


def make_runner(container) -> WorkflowRunner:
    s = container.settings
    if s.is_local:
        return LocalRunner(s.project_id, s.region, env=s.to_env())
    return CloudRunner(s.project_id, s.region)
