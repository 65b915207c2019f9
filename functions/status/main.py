"""Cloud Function `status`: credentials for listening to job status in Firestore (no WebSocket)."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("status", [sibling(__file__, "routes").bp])
status = functions_framework.http(entry_point(app))
