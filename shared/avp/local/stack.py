"""The whole platform on one machine: emulators, functions behind the gateway, the workflow
executor and the storage-event trigger, in one process (plus the Firestore emulator's JVM)."""
from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from werkzeug.serving import make_server

from avp import logs
from avp.bootstrap import Container, container, use_container
from avp.config import Settings
from avp.domain.users import ensure_first_admin
from avp.local.emulators import FirestoreEmulator, StorageEmulator
from avp.local.gateway import Gateway, project_root

log = logs.get("local.stack")


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
        self.storage = StorageEmulator(storage_port, self.data_dir / "storage", on_finalize=self._object_finalized)
        self.server = None
        self._stopped = threading.Event()

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
        self.gateway = Gateway()
        self.server = make_server("127.0.0.1", self.port, self.gateway, threaded=True)
        self.port = self.server.server_port
        os.environ["AVP_PUBLIC_URL"] = self.url
        return generated

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
