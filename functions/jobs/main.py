"""Cloud Function `jobs`: upload, job CRUD and actions, bulk operations, VTT editing, downloads."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("jobs", [sibling(__file__, "routes").bp, sibling(__file__, "routes_vtt").bp])
jobs = functions_framework.http(entry_point(app))
