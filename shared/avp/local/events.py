"""The local stand-in for Eventarc: turn the storage emulator's "object written" into the same
CloudEvent GCS sends (`google.cloud.storage.object.v1.finalized`) and hand it to the ingest
function, loaded once like the gateway loads the HTTP functions."""
from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import threading
import uuid
from collections.abc import Callable
from typing import Any

from cloudevents.http import CloudEvent

from avp import logs
from avp.local.gateway import project_root

log = logs.get("local.events")
FINALIZED = "google.cloud.storage.object.v1.finalized"
_lock = threading.Lock()


def finalized_event(bucket: str, name: str, obj: dict[str, Any]) -> CloudEvent:
    """The CloudEvent GCS emits when `name` is written whole in `bucket` (data: the object resource)."""
    attributes = {
        "type": FINALIZED,
        "source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
        "subject": f"objects/{name}",
        "id": uuid.uuid4().hex,
        "time": dt.datetime.now(dt.timezone.utc).isoformat(),
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, {**obj, "bucket": bucket, "name": name})


def ingest_function() -> Callable[[CloudEvent], None]:
    """functions/ingest/main.py's entry point, imported once under a module name of its own."""
    module_name = "avp_fn_ingest_main"
    with _lock:
        if module_name not in sys.modules:
            spec = importlib.util.spec_from_file_location(module_name, project_root() / "functions" / "ingest" / "main.py")
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[module_name] = module
    return sys.modules[module_name].ingest


def deliver_finalized(bucket: str, name: str, obj: dict[str, Any]) -> None:
    """Deliver one finalize event (called on an event thread of the local stack)."""
    try:
        ingest_function()(finalized_event(bucket, name, obj))
    except Exception:  # like Eventarc, one failing delivery must not stop the next
        log.exception("ingest failed for gs://%s/%s", bucket, name)
