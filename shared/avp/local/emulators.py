"""The local stand-ins for Firestore and Cloud Storage, started and stopped from Python."""
from __future__ import annotations

import glob
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import requests

from avp import logs
from avp.local import reaper

log = logs.get("local.emulators")
SDK_GUESSES = ("/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/opt/google-cloud-sdk",
               str(Path.home() / "google-cloud-sdk"))
INSTALL_HINT = ("The Firestore emulator was not found. Install the Google Cloud CLI and its emulator, e.g. on Debian:\n"
                "  apt-get install google-cloud-cli google-cloud-cli-firestore-emulator default-jre-headless\n"
                "or with the CLI: gcloud components install cloud-firestore-emulator\n"
                "(or set AVP_FIRESTORE_EMULATOR to the cloud_firestore_emulator binary).")


class EmulatorError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_firestore_emulator() -> str:
    """The cloud_firestore_emulator launcher shipped with the Google Cloud CLI."""
    explicit = os.environ.get("AVP_FIRESTORE_EMULATOR")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise EmulatorError(f"AVP_FIRESTORE_EMULATOR={explicit} is not an executable file.\n{INSTALL_HINT}")
        return explicit
    roots = list(SDK_GUESSES)
    gcloud = shutil.which("gcloud")
    if gcloud:
        roots.insert(0, str(Path(os.path.realpath(gcloud)).parents[1]))
    for root in roots:
        for candidate in glob.glob(f"{root}/platform/cloud-firestore-emulator/cloud_firestore_emulator"):
            return candidate
    raise EmulatorError(INSTALL_HINT)


def check_prerequisites() -> list[str]:
    """What is missing for the local stack, as install instructions (empty when all is there)."""
    missing = []
    try:
        find_firestore_emulator()
    except EmulatorError as exc:
        missing.append(str(exc))
    if not shutil.which("java"):
        missing.append("Java is needed by the Firestore emulator: apt-get install default-jre-headless")
    from avp.media.ffmpeg import FfmpegUnusable, ffmpeg_exe

    try:
        ffmpeg_exe()
    except FfmpegUnusable as exc:
        missing.append(str(exc))
    return missing


def _wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise EmulatorError(f"emulator exited with code {proc.returncode} before it was ready")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise EmulatorError(f"emulator at {url} not ready after {timeout:.0f} s")


class FirestoreEmulator:
    """The official emulator as a child process. With `data_dir`, the project's data is seeded
    from the last export at start and exported again at stop, so a local stack keeps its state
    across restarts. (The emulator's own --export-on-exit does not fire on a signal; the
    emulator's export endpoint does the same on demand.)"""

    def __init__(self, port: int | None = None, data_dir: Path | None = None, rules: Path | None = None,
                 log_file: Path | None = None, project_id: str = "avp-local"):
        self.port = port or free_port()
        self.data_dir = data_dir
        self.project_id = project_id
        self.rules = rules
        self.log_file = log_file
        self.proc: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "FirestoreEmulator":
        cmd = [find_firestore_emulator(), "--host", "127.0.0.1", "--port", str(self.port)]
        if self.rules:
            cmd += ["--rules", str(self.rules)]
        if self.data_dir:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # `previous` is whole when a crash fell between export()'s two renames.
            seeds = (sorted((self.data_dir / "current").glob("*/*.overall_export_metadata"))
                     or sorted((self.data_dir / "previous").glob("*/*.overall_export_metadata")))
            for staging in self.data_dir.glob("export-*"):  # half-written by an export a crash cut short
                shutil.rmtree(staging, ignore_errors=True)
            if seeds:
                cmd += ["--seed_from_export", str(seeds[-1])]
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        reaper.guard_group(self.proc.pid)  # the emulator dies with this process, even on SIGKILL
        _wait_http(f"http://{self.host}/", timeout, self.proc)
        log.info("firestore emulator on %s", self.host)
        return self

    def reset(self, project_id: str) -> None:
        requests.delete(f"http://{self.host}/emulator/v1/projects/{project_id}/databases/(default)/documents", timeout=10)

    def export(self) -> None:
        """Write the project's data to `data_dir/current`, replacing the previous export only when whole."""
        assert self.data_dir is not None
        staging = self.data_dir / f"export-{int(time.time() * 1000)}"
        staging.mkdir(parents=True)
        resp = requests.post(f"http://{self.host}/emulator/v1/projects/{self.project_id}:export", timeout=120,
                             json={"database": f"projects/{self.project_id}/databases/(default)", "export_directory": str(staging)})
        if resp.status_code != 200:
            shutil.rmtree(staging, ignore_errors=True)
            raise EmulatorError(f"Firestore export failed: {resp.text[:200]}")
        current, old = self.data_dir / "current", self.data_dir / "previous"
        shutil.rmtree(old, ignore_errors=True)
        if current.exists():
            current.rename(old)
        staging.rename(current)
        shutil.rmtree(old, ignore_errors=True)

    def stop(self, timeout: float = 30) -> None:
        if not self.proc or self.proc.poll() is not None:
            return
        if self.data_dir:
            try:
                self.export()
            except (EmulatorError, requests.RequestException):
                log.exception("could not export Firestore data; the previous export is kept")
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


FinalizeHook = Callable[[str, str, dict], None]


LOOPBACK_ORIGIN = re.compile(r"^http://(127\.0\.0\.1|localhost)(:\d+)?$")


def _cors_handler(base):
    """The emulator's request handler answering browsers on this machine the way the bucket's CORS
    configuration answers the console in the cloud (infra/terraform/modules/storage): the console
    PUTs resumable chunks and reads the session's `Range`, and fetches reports by signed URL."""
    if getattr(base, "avp_cors", False):
        return base

    class CorsRequestHandler(base):
        avp_cors = True

        def end_headers(self):
            origin = self.headers.get("Origin") or ""
            if LOOPBACK_ORIGIN.match(origin):
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Access-Control-Expose-Headers", "Range, Location, X-Goog-Hash, Content-Length")
                self.send_header("Vary", "Origin")
            super().end_headers()

        def do_OPTIONS(self):  # noqa: N802 - http.server's naming
            self.send_response(204)
            if LOOPBACK_ORIGIN.match(self.headers.get("Origin") or ""):
                self.send_header("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST")
                self.send_header("Access-Control-Allow-Headers", self.headers.get("Access-Control-Request-Headers") or "")
                self.send_header("Access-Control-Max-Age", "600")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return CorsRequestHandler


class StorageEmulator:
    """gcp-storage-emulator in this process, on a thread. `on_finalize(bucket, name, object)` is called
    after each object is written whole — the local stand-in for the GCS `object.finalized` event.
    The emulator serves one request at a time, so the hook must hand work off, never call back in."""

    def __init__(self, port: int | None = None, data_dir: Path | None = None, bucket: str = "avp-media",
                 on_finalize: FinalizeHook | None = None, signing_key: Path | None = None):
        self.data_dir = data_dir
        self.bucket = bucket
        self.on_finalize = on_finalize
        self.server = None
        # With the signer's key file, URLs handed out point at a front that checks their signatures (as
        # Cloud Storage does) on `port`; the emulator, which checks nothing, listens on a port of its own
        # known only to this machine's clients (STORAGE_EMULATOR_HOST).
        self.signing_key = signing_key
        self.front = None
        self.public_port = port or free_port()
        self.port = free_port() if signing_key else self.public_port

    @property
    def host(self) -> str:
        """Where storage clients talk to the emulator."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def public_host(self) -> str:
        """The address in signed URLs and upload sessions handed to browsers."""
        return f"http://127.0.0.1:{self.public_port}"

    def start(self) -> "StorageEmulator":
        from gcp_storage_emulator import server as gse_server
        from gcp_storage_emulator import storage as gse_storage

        logging.getLogger("gcp_storage_emulator").setLevel(logging.WARNING)
        hook = self.on_finalize

        class NotifyingStorage(gse_storage.Storage):
            def create_file(self, bucket_name, file_name, content, file_obj, file_id=None):
                result = super().create_file(bucket_name, file_name, content, file_obj, file_id)
                if hook is not None:
                    try:
                        hook(bucket_name, file_name, dict(file_obj))
                    except Exception:  # an event handler's failure must not fail the upload
                        log.exception("finalize hook failed for %s/%s", bucket_name, file_name)
                return result

        original = gse_server.Storage
        gse_server.Storage = NotifyingStorage
        gse_server.RequestHandler = _cors_handler(gse_server.RequestHandler)
        try:
            if self.data_dir:
                self.data_dir.mkdir(parents=True, exist_ok=True)
            self.server = gse_server.create_server("127.0.0.1", self.port, in_memory=self.data_dir is None,
                                                   default_bucket=self.bucket,
                                                   data_dir=str(self.data_dir) if self.data_dir else None)
        finally:
            gse_server.Storage = original
        self.server.start()
        _wait_http(f"{self.host}/storage/v1/b", 15)
        if self.signing_key:
            from avp.local.signed_urls import SignedUrlFront, key_file_identity, serve

            self.front = serve(SignedUrlFront(self.host, key_file_identity(self.signing_key)), self.public_port)
        log.info("storage emulator on %s", self.host)
        return self

    def stop(self) -> None:
        if self.front is not None:
            self.front.shutdown()
            self.front = None
        if self.server is not None:
            self.server.stop()
            self.server = None
