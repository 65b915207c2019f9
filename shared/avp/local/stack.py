"""The whole platform on one machine: emulators, functions behind the gateway, the workflow
executor and the storage-event trigger, in one process (plus the Firestore emulator's JVM)."""
from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from werkzeug.serving import make_server

from avp import logs
from avp.bootstrap import Container, container, use_container
from avp.config import Settings
from avp.domain import audit, jobs, migrations
from avp.domain.model import Job
from avp.domain.users import ensure_first_admin
from avp.errors import Conflict
from avp.local.emulators import FirestoreEmulator, StorageEmulator
from avp.local.gateway import Gateway, project_root

log = logs.get("local.stack")
EXPORT_AFTER_WRITES = 2.0  # seconds: how far the on-disk Firestore export may lag writes made through the API
EXPORT_ANYWAY = 30.0  # seconds: how far it may lag other writes (pipeline steps)
INTERRUPTED = "interrupted: the local stack stopped while this job was queued or processing; retry it"


def fail_interrupted(store) -> list[str]:
    """Jobs the last stop left queued or processing: nothing runs them any more (their executions died
    with the stack), so they become failed, which `retry` accepts, instead of `processing` for ever."""
    failed = []
    for status in ("queued", "processing"):
        for job in store.of(Job).where(("status", "==", status)):
            try:
                jobs.transition(store, audit.SYSTEM, job.id, "fail", reason=INTERRUPTED)
            except Conflict:  # moved on meanwhile
                continue
            failed.append(job.id)
    return failed


class LocalStack:
    def __init__(self, data_dir: Path, port: int = 8012, firestore_port: int | None = None,
                 storage_port: int | None = None, project_id: str | None = None):
        self.data_dir = data_dir.resolve()
        self.port = port
        self.project_id = project_id or os.environ.get("GOOGLE_CLOUD_PROJECT", "avp-local")
        rules = project_root() / "infra" / "firestore.rules"
        self.firestore = FirestoreEmulator(firestore_port, self.data_dir / "firestore", rules=rules if rules.exists() else None,
                                           log_file=self.data_dir / "firestore-emulator.log", project_id=self.project_id)
        self.events = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gcs-event")
        self.storage = StorageEmulator(storage_port, self.data_dir / "storage", on_finalize=self._object_finalized,
                                       signing_key=self.data_dir / "signing-key.json")
        self.server = None
        self._stopped = threading.Event()
        self._exports = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _object_finalized(self, bucket: str, name: str, obj: dict) -> None:
        from avp.local.events import deliver_finalized

        self.events.submit(deliver_finalized, bucket, name, obj)

    def start(self) -> str | None:
        """Start everything; returns a generated first-admin password when one was made."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.firestore.start()
        self.storage.start()
        os.environ.update({
            "FIRESTORE_EMULATOR_HOST": self.firestore.host,
            "STORAGE_EMULATOR_HOST": self.storage.host,
            "AVP_STORAGE_PUBLIC_HOST": self.storage.public_host,
            "AVP_DATA_DIR": str(self.data_dir),
            "GOOGLE_CLOUD_PROJECT": self.project_id,
            "AVP_PUBLIC_URL": self.url,
            "AVP_ENV": "local",
        })
        use_container(Container(Settings.from_env()))
        c = container()

        generated = ensure_first_admin(c.store, c.settings.admin_email, c.settings.admin_password)
        if generated:
            # Kept (owner-only) so local tools like `avp demo` can sign in as the first admin later.
            secret = self.data_dir / "first-admin-password"
            secret.write_text(generated)
            secret.chmod(0o600)
        c.storage  # noqa: B018 - create the bucket before the first request
        interrupted = fail_interrupted(c.store)
        if interrupted:
            log.warning("marked %d job(s) interrupted by the last stop as failed (retryable): %s", len(interrupted),
                        ", ".join(interrupted))
        # A data dir from an older version is brought up to this one, as `avp migrate` does in the
        # cloud: the steps it has not had yet, once.
        for line in migrations.run(c.store, every=False):
            log.info(line)
        self.gateway = Gateway()
        self.server = make_server("127.0.0.1", self.port, self.gateway, threaded=True)
        self.port = self.server.server_port
        os.environ["AVP_PUBLIC_URL"] = self.url
        threading.Thread(target=self._export_periodically, name="firestore-export", daemon=True).start()
        return generated

    def _export_periodically(self) -> None:
        """Keep the Firestore export on disk at most EXPORT_AFTER_WRITES seconds behind writes made through
        the gateway and EXPORT_ANYWAY seconds behind anything else (pipeline steps write directly), so a
        SIGKILL of the stack loses no more than that: the emulator itself keeps everything in memory."""
        seen, last = self.gateway.writes, time.monotonic()
        while not self._stopped.wait(EXPORT_AFTER_WRITES):
            writes = self.gateway.writes
            if writes == seen and time.monotonic() - last < EXPORT_ANYWAY:
                continue
            with self._exports:
                if self._stopped.is_set():
                    return
                try:
                    self.firestore.export()
                except Exception:  # the next round tries again; the previous export stays whole
                    log.exception("periodic Firestore export failed")
                    continue
            seen, last = writes, time.monotonic()

    def serve_forever(self) -> None:
        assert self.server is not None
        self.server.serve_forever()

    def serve_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="avp-gateway", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.server is not None:
            threading.Thread(target=self.server.shutdown, daemon=True).start()
        try:
            runner = container().__dict__.get("workflows")
            if runner is not None:
                runner.shutdown()
        except Exception:  # stopping must go on whatever a runner does
            log.exception("stopping the workflow runner failed")
        self.events.shutdown(wait=False, cancel_futures=True)
        self.storage.stop()
        with self._exports:
            self.firestore.stop()


def run(data_dir: Path, port: int) -> int:
    """`avp up`: start the stack, print the ready line, stop everything on Ctrl-C or SIGTERM."""
    stack = LocalStack(data_dir, port)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        from rich.console import Console

        with Console().status("starting the local stack (Firestore and storage emulators, gateway, executor)"):
            generated = stack.start()
        c = container()
        if generated:
            print(f"first admin: {c.settings.admin_email} / {generated}  (kept in {stack.data_dir / 'first-admin-password'};"
                  " set AVP_ADMIN_PASSWORD to choose one)", flush=True)
        print(f"avp ready on {stack.url}", flush=True)
        stack.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0
