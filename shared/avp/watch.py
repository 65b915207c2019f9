"""`avp watch JOB_ID`: follow a job in the terminal with a progress bar, from a Firestore listener
on its `job_status` document — the same channel browsers use (GET /api/v1/ws/status)."""
from __future__ import annotations

import getpass
import os
import sys
import threading
from typing import Any, TextIO

import requests

from avp.domain.jobs import RUNNING

BAR = 30


def render(status: dict[str, Any]) -> str:
    """One line for a status document: bar, percentage, state and stage."""
    progress = float(status.get("progress") or 0.0)
    filled = int(progress * BAR)
    stage = f"/{status['stage']}" if status.get("stage") else ""
    reason = f" - {status['failure_reason']}" if status.get("failure_reason") else ""
    return f"[{'#' * filled}{'-' * (BAR - filled)}] {progress:4.0%} {status.get('status')}{stage}{reason}"


def _fail(out: TextIO, message: str) -> int:
    print(message, file=out, flush=True)
    return 2


def watch(job_id: str, url: str, email: str | None, password: str | None, out: TextIO = sys.stdout) -> int:
    """Sign in, check the job is visible, then print its status as it changes. Exit code 0 once it
    rests (pending_qc, failed, cancelled, complete...), 2 when it cannot be followed."""
    api = f"{url.rstrip('/')}/api/v1"
    email = email or input("email: ")
    password = password or getpass.getpass("password: ")
    login = requests.post(f"{api}/auth/login", json={"email": email, "password": password}, timeout=30)
    if login.status_code != 200:
        return _fail(out, f"sign-in failed: {login.json().get('detail')}")
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    job = requests.get(f"{api}/jobs/{job_id}", headers=headers, timeout=30)
    if job.status_code != 200:
        return _fail(out, f"job {job_id}: {job.json().get('detail')}")
    channel = requests.get(f"{api}/ws/status", params={"job_id": job_id}, headers=headers, timeout=30).json()
    if channel.get("mode") != "emulator":
        # A cloud listener must trade the custom token for an ID token with the project's web API key,
        # which this command is not given; browsers do that with the Firebase JS SDK.
        return _fail(out, "avp watch listens to the local stack's Firestore emulator only")
    return _listen(job_id, channel, out)


def _listen(job_id: str, channel: dict[str, Any], out: TextIO) -> int:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore

    # The client finds the emulator through the environment; this is the CLI's own process.
    os.environ["FIRESTORE_EMULATOR_HOST"] = channel["emulator_host"]
    client = firestore.Client(project=channel["project_id"], credentials=AnonymousCredentials())
    rested = threading.Event()

    def on_snapshot(docs, _changes, _read_time) -> None:
        for doc in docs:
            status = doc.to_dict() or {}
            print("\r" + render(status), end="", file=out, flush=True)
            if status.get("status") not in RUNNING:
                rested.set()

    listener = client.document(f"{channel['collection']}/{job_id}").on_snapshot(on_snapshot)
    try:
        while not rested.wait(0.5):
            pass
    except KeyboardInterrupt:
        return 130
    finally:
        listener.unsubscribe()
        print(file=out, flush=True)
    return 0
