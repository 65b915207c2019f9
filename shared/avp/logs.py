"""Structured JSON logs (one line per event, with `severity`), as Cloud Logging reads them."""
from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from pathlib import Path

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("avp_request_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str = "INFO", stream=None) -> None:
    """Route the `avp` loggers to JSON lines on `stream` (stderr by default). Idempotent."""
    root = logging.getLogger("avp")
    root.setLevel(level)
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.propagate = False


def to_file(path: Path, level: str = "INFO", *, echo: bool = False) -> Path:
    """Send every log line of this process (avp's, the web server's, the libraries') to `path`
    as JSON lines instead of the terminal, so that a command can show a person a clean display;
    `echo` shows them on stderr too (`--verbose`). Later `configure` calls add nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [logging.FileHandler(path, encoding="utf-8")]
    if echo:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(JsonFormatter())
    avp = logging.getLogger("avp")
    avp.setLevel(level)
    avp.handlers[:] = handlers
    avp.propagate = False
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.handlers[:] = handlers
    # The gateway logs each request itself (avp.http); werkzeug's own access lines would repeat them.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return path


def get(name: str) -> logging.Logger:
    return logging.getLogger(f"avp.{name}")


def event(logger: logging.Logger, message: str, severity: int = logging.INFO, **fields) -> None:
    """Log `message` with extra structured `fields`."""
    logger.log(severity, message, extra={"fields": fields})
