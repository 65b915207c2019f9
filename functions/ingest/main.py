"""Cloud Function `ingest`: reacts to `google.cloud.storage.object.v1.finalized`. A job's source
upload completes the job; an object under `inbox/` becomes a job; anything else is ignored."""
import functions_framework
from cloudevents.http import CloudEvent

from avp.bootstrap import container
from avp.domain import uploads

FINALIZED = "google.cloud.storage.object.v1.finalized"


@functions_framework.cloud_event
def ingest(event: CloudEvent) -> None:
    if event["type"] != FINALIZED:
        return
    data = event.data or {}
    c = container()
    uploads.handle_finalized(c.store, c.storage, c.workflows, c.settings.max_upload_bytes, data.get("bucket", ""),
                             data.get("name", ""), data)
