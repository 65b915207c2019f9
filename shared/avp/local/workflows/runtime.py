"""What one execution shares across its steps: cancellation, child processes, logging, sleep.

Connectors get a `CallContext` built from it, so they can wait cancellably, register
the child processes they start (the execution manager kills them on cancel) and count
attempts per step the way Cloud Run counts task attempts.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from avp.local.workflows.errors import ExecutionCancelled

logger = logging.getLogger("avp.local.workflows")

LogSink = Callable[[str, str], None]
"""Receives (message, severity) for every line an execution logs."""


def terminate_process_group(process: subprocess.Popen[Any], grace: float = 0.5) -> None:
    """Stop a child started with `start_new_session=True`, with all its own children.

    SIGTERM first so a step can remove its temporary files; SIGKILL after `grace` seconds.
    """
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


@dataclass
class Runtime:
    """Per-execution services. `sleep=None` waits on the cancel event, so cancel wakes it."""

    execution_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    env: Mapping[str, str] = field(default_factory=dict)
    sleep: Callable[[float], None] | None = None
    log_sink: LogSink | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    _processes: set[subprocess.Popen[Any]] = field(default_factory=set, repr=False)
    _attempts: Counter[Hashable] = field(default_factory=Counter, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def log(self, message: str, severity: str = "INFO") -> None:
        """Log one line of this execution."""
        if self.log_sink is not None:
            self.log_sink(message, severity)
        level = logging.getLevelName(severity.upper())
        logger.log(level if isinstance(level, int) else logging.INFO, "[%s] %s", self.execution_id, message)

    def check_cancelled(self) -> None:
        """Raise `ExecutionCancelled` once the execution was cancelled."""
        if self.cancel_event.is_set():
            raise ExecutionCancelled(self.execution_id)

    def pause(self, seconds: float) -> None:
        """Sleep (retry backoff, `sys.sleep`), ending early with `ExecutionCancelled` on cancel."""
        self.check_cancelled()
        if self.sleep is not None:
            self.sleep(seconds)
        else:
            self.cancel_event.wait(max(0.0, seconds))
        self.check_cancelled()

    def cancel(self) -> None:
        """Stop at the next step boundary and kill every registered child process now."""
        self.cancel_event.set()
        with self._lock:
            running = list(self._processes)
        for process in running:
            terminate_process_group(process)

    def register_process(self, process: subprocess.Popen[Any]) -> None:
        """Track a child so that cancel can kill it; kills it at once if already cancelled."""
        with self._lock:
            self._processes.add(process)
        if self.cancel_event.is_set():
            terminate_process_group(process)

    def unregister_process(self, process: subprocess.Popen[Any]) -> None:
        """Forget a child that has exited."""
        with self._lock:
            self._processes.discard(process)

    def next_attempt(self, key: Hashable) -> int:
        """0 the first time `key` is seen in this execution, then 1, 2, ..."""
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
        return attempt

    def context(self, call: str, step: str) -> CallContext:
        """The view of this runtime a connector gets for one call."""
        return CallContext(call=call, step=step, runtime=self)


@dataclass(frozen=True)
class CallContext:
    """Handed to a connector with its arguments: `(args, ctx) -> result`."""

    call: str
    step: str
    runtime: Runtime

    @property
    def execution_id(self) -> str:
        return self.runtime.execution_id

    @property
    def cancel_event(self) -> threading.Event:
        return self.runtime.cancel_event

    def log(self, message: str, severity: str = "INFO") -> None:
        """Log a line under this execution."""
        self.runtime.log(message, severity)

    def register_process(self, process: subprocess.Popen[Any]) -> None:
        """Let cancellation kill this child (start it with `start_new_session=True`)."""
        self.runtime.register_process(process)

    def unregister_process(self, process: subprocess.Popen[Any]) -> None:
        """The child has exited."""
        self.runtime.unregister_process(process)

    def next_attempt(self, key: Hashable) -> int:
        """Attempt number (from 0) of the work identified by `key` within this execution."""
        return self.runtime.next_attempt(key)


Connector = Callable[[dict[str, Any], CallContext], Any]
"""A call target such as `googleapis.run.v2.projects.locations.jobs.run`."""
