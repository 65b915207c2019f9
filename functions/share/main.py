"""Cloud Function `share`: share links for a job's deliverables, and their public preview."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("share", [sibling(__file__, "routes").bp])
share = functions_framework.http(entry_point(app))
