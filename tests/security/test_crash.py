"""The local mode survives a crash: `kill -9` of `avp up` loses no write older than the export window,
leaves no process behind, and jobs it interrupted become failed-and-retryable instead of `processing`."""
import os
import signal
import time
from pathlib import Path

import pytest
import requests

from avp.auth.tokens import Principal
from avp.domain import audit, jobs
from avp.local.stack import EXPORT_AFTER_WRITES, INTERRUPTED, fail_interrupted
from tests.e2e.stack import StackProcess

ADMIN = {"email": "admin@example.com", "password": "admin password 1234"}


def _process_groups_under(pid: int) -> set[int]:
    """The process groups of `pid`'s children (the emulator's, the watchdogs')."""
    groups = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # ppid
            groups.add(int(fields[2]))  # pgrp
    return groups


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.e2e
def test_kill_9_keeps_acknowledged_writes_and_leaves_no_process(tmp_path):
    data = tmp_path / "data"
    stack = StackProcess(data).start()
    try:
        api = f"{stack.url}/api/v1"
        token = requests.post(f"{api}/auth/login", json=ADMIN, timeout=30).json()["access_token"]
        made = requests.post(f"{api}/admin/users", json={"email": "survivor@example.com", "role": "linguist",
                                                         "password": "a long enough password"},
                             headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert made.status_code == 201
        groups = _process_groups_under(stack.proc.pid)
        assert groups, "the emulator runs under avp up"
        # The guarantee: a write acknowledged through the API is on disk within the export window.
        time.sleep(EXPORT_AFTER_WRITES + 3)
        os.kill(stack.proc.pid, signal.SIGKILL)
        stack.proc.wait(10)
        deadline = time.monotonic() + 10
        while any(_group_alive(g) for g in groups) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [g for g in groups if _group_alive(g)], "processes outlived avp up"
    finally:
        stack.stop()

    again = StackProcess(data).start()
    try:
        login = requests.post(f"{again.url}/api/v1/auth/login",
                              json={"email": "survivor@example.com", "password": "a long enough password"}, timeout=30)
        assert login.status_code == 200, login.text
    finally:
        again.stop()


def test_jobs_a_stop_interrupted_become_failed_and_retryable(container):
    store = container.store
    running = jobs.new_job(Principal("u", "admin"), org_id="org-1", client_id=None, project_id=None, title="t",
                           filename="a.mp4", content_type="video/mp4", size_bytes=1, source_language="en",
                           requested_outputs=None)
    jobs.store_new_job(store, audit.SYSTEM, running)
    jobs.transition(store, audit.SYSTEM, running["id"], "complete_upload")
    jobs.transition(store, audit.SYSTEM, running["id"], "start_processing")
    assert fail_interrupted(store) == [running["id"]]
    job = store.get(f"jobs/{running['id']}")
    assert job["status"] == "failed" and job["status_reason"] == INTERRUPTED
    assert jobs.transition(store, audit.SYSTEM, running["id"], "retry")["status"] == "queued"
