"""Run `avp up` as a subprocess, as a person would, and wait for its ready line."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from avp.local.emulators import free_port

READY = "avp ready on "


class StackProcess:
    def __init__(self, data_dir: Path, env: dict[str, str] | None = None):
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {**os.environ, "AVP_ADMIN_EMAIL": "admin@example.com", "AVP_ADMIN_PASSWORD": "admin password 1234",
                    "AVP_COOKIE_SECURE": "false", **(env or {})}
        for var in ("FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT"):
            self.env.pop(var, None)
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.url = ""

    def start(self, timeout: float = 90) -> "StackProcess":
        self.proc = subprocess.Popen([sys.executable, "-m", "avp.cli", "up", "--port", str(self.port), "--data-dir", str(self.data_dir)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env)
        q: queue.Queue[str] = queue.Queue()

        def pump():
            for line in self.proc.stdout:
                self.lines.append(line)
                q.put(line)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = q.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise RuntimeError("avp up exited:\n" + "".join(self.lines[-30:]))
                continue
            if line.startswith(READY):
                self.url = line[len(READY):].strip()
                return self
        raise RuntimeError("avp up not ready in time:\n" + "".join(self.lines[-30:]))

    def stop(self, timeout: float = 60) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
